// How the app treats each relay error, in one table that the protocol client and both pages
// read: which errors refuse a join (so the client stops asking), what the client does when one
// answers a resume, which ones the client deals with by itself (nothing to tell the person),
// and which screen the guest page shows for a refusal. Also when a relay that does not answer
// counts as unreachable. Codes not in the table are plain notices.

import type { ErrorCode } from './wire';

/** A refused join as the guest page names its screen. */
export type JoinRefusal = 'wrong_password' | 'session_full' | 'server_full' | 'not_found' | 'throttled' | 'kicked';

export interface ErrorRule {
  /** It refuses a join, create or resume: asking again the same way would only fail again. */
  refuses?: boolean;
  /** The guest page's screen for the refusal; a refusal without one is not shown. */
  screen?: JoinRefusal;
  /** Answering a resume: ask again shortly on the same socket, or give up the token and join afresh. */
  onResume?: 'retry' | 'rejoin';
  /** The client deals with it by itself: nothing to tell the person. */
  quiet?: boolean;
}

const RULES: Partial<Record<ErrorCode, ErrorRule>> = {
  session_not_found: { refuses: true, screen: 'not_found' },
  invalid_password: { refuses: true, screen: 'wrong_password' },
  session_full: { refuses: true, screen: 'session_full' },
  server_full: { refuses: true, screen: 'server_full' },
  // A kicked guest trying to come back (by reload or rejoin) stays out.
  kicked: { refuses: true, screen: 'kicked' },
  // No screen of its own: the guest page stays silent, the host page shows the relay's words.
  already_in_session: { refuses: true },
  // A create from an address that already hosts its share of the relay: asking again only
  // fails again until one of its sessions ends. The host page shows the relay's words.
  too_many_sessions: { refuses: true },
  // The relay wants us to slow down: a resume waits and asks again, a join gives up.
  join_throttled: { refuses: true, screen: 'throttled', onResume: 'retry' },
  // The session waits for its host to come back.
  host_not_back: { onResume: 'retry', quiet: true },
  // Our place is gone (grace period over, or the token is unusable).
  invalid_token: { onResume: 'rejoin', quiet: true },
  token_expired: { onResume: 'rejoin', quiet: true },
};

export function errorRule(code: ErrorCode): ErrorRule {
  return RULES[code] ?? {};
}

/** Connection attempts in a row that never opened before a page says the relay is unreachable. */
export const UNREACHABLE_AFTER = 3;
