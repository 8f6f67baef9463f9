// The small brand mark at the top of every page; it links home.

import { linkClick } from '../lib/router';

export function Brand() {
  return (
    <a href="/" onClick={linkClick} className="inline-flex min-h-11 items-center gap-2 font-display text-lg text-cream">
      <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden>
        <circle cx="16" cy="16" r="10" fill="#f5b454" />
        <circle cx="16" cy="16" r="14.5" fill="none" stroke="#f5b454" strokeOpacity=".45" strokeWidth="2" />
      </svg>
      Familiar Sessions
    </a>
  );
}
