// The queue as the host runs it: previous / play-pause / skip, repeat and shuffle, and each track
// with its cover, title and artist, a button to play it now, to move it up or down, and to remove
// it. The current track is marked; "up next" is what follows it.

import type { HostSession } from '../hooks/useHostSession';
import type { Repeat } from '../lib/queue';
import { AddMusic } from './AddMusic';

const REPEAT_NEXT: Record<Repeat, Repeat> = { off: 'all', all: 'one', one: 'off' };
const REPEAT_TEXT: Record<Repeat, string> = { off: 'Repeat: off', all: 'Repeat: all', one: 'Repeat: this track' };

export function Cover({ src, size = 48 }: { src: string | null; size?: number }) {
  return src ? (
    <img src={src} alt="" width={size} height={size} className="shrink-0 rounded-lg object-cover" style={{ width: size, height: size }} />
  ) : (
    <span aria-hidden className="grid shrink-0 place-items-center rounded-lg bg-dusk text-sand" style={{ width: size, height: size }}>
      ♪
    </span>
  );
}

export function QueuePanel({ host }: { host: HostSession }) {
  const q = host.queue;
  const items = q?.items ?? [];
  return (
    <section aria-labelledby="queue-heading" className="space-y-3">
      <div className="flex flex-wrap items-center gap-2">
        <h3 id="queue-heading" className="mr-auto text-base font-semibold">
          Queue <span className="font-sans text-sm text-sand">· {items.length}</span>
        </h3>
        <button type="button" className="btn-ghost text-sm" onClick={host.previous} disabled={!items.length}>
          Previous
        </button>
        <button type="button" className="btn-ghost text-sm" onClick={host.skip} disabled={!items.length}>
          Skip
        </button>
        <button type="button" className="btn-ghost text-sm" onClick={() => q && host.setRepeat(REPEAT_NEXT[q.repeat])} disabled={!q}>
          {REPEAT_TEXT[q?.repeat ?? 'off']}
        </button>
        <button type="button" className="btn-ghost text-sm" aria-pressed={q?.shuffle ?? false} onClick={() => q && host.setShuffle(!q.shuffle)} disabled={!q}>
          Shuffle
        </button>
      </div>
      {items.length > 0 && (
        <ol className="divide-y divide-line" aria-label="Queue">
          {items.map((e, i) => {
            const current = e.id === q?.current;
            const { title, artist, album } = e.data.meta;
            return (
              <li key={e.id} className="flex items-center gap-3 py-2" aria-current={current ? 'true' : undefined}>
                <Cover src={e.data.cover} size={40} />
                <button type="button" className="min-w-0 flex-1 text-left" onClick={() => host.jump(e.id)} aria-label={`Play ${title} now`}>
                  <span className={`block truncate ${current ? 'font-semibold text-ember' : ''}`}>
                    {current && <span className="sr-only">Now playing: </span>}
                    {title}
                  </span>
                  <span className="block truncate text-sm text-sand">{[artist, album].filter(Boolean).join(' · ')}</span>
                </button>
                <button type="button" className="btn-ghost min-h-9 px-3 text-sm" aria-label={`Move ${title} up`} disabled={i === 0} onClick={() => host.move(e.id, i - 1)}>
                  ↑
                </button>
                <button type="button" className="btn-ghost min-h-9 px-3 text-sm" aria-label={`Move ${title} down`} disabled={i === items.length - 1} onClick={() => host.move(e.id, i + 1)}>
                  ↓
                </button>
                <button type="button" className="btn-ghost min-h-9 px-3 text-sm" aria-label={`Remove ${title}`} onClick={() => host.remove(e.id)}>
                  ✕
                </button>
              </li>
            );
          })}
        </ol>
      )}
      <AddMusic onFiles={host.addFiles} hint={items.length ? 'Add more: drop files or a folder here, or' : undefined} />
    </section>
  );
}
