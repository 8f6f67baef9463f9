// The chat: a log that announces new lines politely to screen readers and keeps itself
// scrolled to the newest, and a one-line composer.

import { useEffect, useRef, useState } from 'react';
import type { ChatLine } from '../room/state';

interface ChatPanelProps {
  lines: ChatLine[];
  me: string | null;
  /** Returns false when the message could not be sent (socket down): the text is kept. */
  onSend: (message: string) => boolean;
}

export function ChatPanel({ lines, me, onSend }: ChatPanelProps) {
  const [text, setText] = useState('');
  const log = useRef<HTMLDivElement>(null);
  useEffect(() => {
    log.current?.scrollTo({ top: log.current.scrollHeight });
  }, [lines.length]);
  return (
    <section aria-labelledby="chat-heading" className="card">
      <h2 id="chat-heading" className="text-lg">
        Chat
      </h2>
      {/* Lines, not list items: role=log replaces a list's own role, which would orphan <li>s. */}
      <div ref={log} role="log" aria-label="Chat messages" className="my-3 max-h-64 min-h-16 space-y-1.5 overflow-y-auto break-words">
        {lines.length === 0 ? (
          <p className="text-sm text-sand">No messages yet. Say hello!</p>
        ) : (
          lines.map((l) => (
            <p key={l.id}>
              <span className={`font-semibold ${l.user_id === me ? 'text-ember' : 'text-coral'}`}>{l.username}</span>{' '}
              {l.message}
            </p>
          ))
        )}
      </div>
      <form
        className="flex gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          const message = text.trim();
          if (message && onSend(message)) setText('');
        }}
      >
        <input
          className="field"
          aria-label="Message"
          placeholder="Say something nice…"
          maxLength={500}
          autoComplete="off"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="btn-primary" disabled={!text.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
