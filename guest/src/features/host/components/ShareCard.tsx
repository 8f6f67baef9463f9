// How the host invites people: the code in large type, the link with a copy button (and a
// fallback of selecting the text where the clipboard is not allowed), and a QR code for phones.

import { useState } from 'react';
import { listenUrl } from '../../../config/relay';
import { QrCode } from './QrCode';

export function ShareCard({ code }: { code: string }) {
  const link = listenUrl(code);
  const [copied, setCopied] = useState<'idle' | 'done' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied('done');
    } catch {
      setCopied('failed');
    }
    setTimeout(() => setCopied('idle'), 2500);
  };
  return (
    <section aria-labelledby="share-heading" className="card flex flex-col items-center gap-4 text-center sm:flex-row sm:text-left">
      <QrCode text={link} />
      <div className="min-w-0 flex-1 space-y-3">
        <h2 id="share-heading" className="text-lg">
          Invite friends
        </h2>
        <p>
          <span className="block text-sm text-sand">Session code</span>
          <span className="font-mono text-3xl tracking-[.2em] text-ember" data-testid="session-code">
            {code}
          </span>
        </p>
        <p className="text-sm break-all text-sand">
          <a href={link} target="_blank" rel="noreferrer" className="text-cream underline underline-offset-4">
            {link}
          </a>
        </p>
        <button type="button" className="btn-primary" onClick={() => void copy()}>
          Copy link
        </button>
        <p role="status" className="min-h-5 text-sm text-sand">
          {copied === 'done' ? 'Link copied.' : copied === 'failed' ? 'Copying was not allowed; select the link instead.' : ''}
        </p>
      </div>
    </section>
  );
}
