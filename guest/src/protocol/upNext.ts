// The `up_next` addition (new; `QueuedTrack` in the generated wire.ts): the host's `playback` may
// carry `up_next`, at most ten `{title?, artist?, album?}` (strings cut to 200 characters, like
// `track_meta`); the relay passes it on in `playback_update` and keeps the last one in the
// session view for late joiners. Clients that predate it ignore it, and an older relay that does
// not pass it on simply leaves it out, which the guest shows as no list at all. Read leniently
// all the same: the relay's answer is data from the network.

import type { ClientMessage } from './wire';

export interface UpNextItem {
  title?: string;
  artist?: string;
  album?: string;
}

export const UP_NEXT_MAX = 10;
const CHARS_MAX = 200;

export type PlaybackMessage = Extract<ClientMessage, { type: 'playback' }> & { up_next?: UpNextItem[] };

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const chars = [...value.trim()];
  return chars.length === 0 ? undefined : chars.slice(0, CHARS_MAX).join('');
}

/**
 * Reads `up_next` from a relay message leniently: null when absent or not a list (a relay that
 * does not forward it), else at most ten entries, each with only the string fields it has.
 */
export function readUpNext(msg: unknown): UpNextItem[] | null {
  const raw = msg && typeof msg === 'object' ? (msg as { up_next?: unknown }).up_next : undefined;
  if (!Array.isArray(raw)) return null;
  const out: UpNextItem[] = [];
  for (const entry of raw.slice(0, UP_NEXT_MAX)) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const item: UpNextItem = {};
    const title = text(e.title);
    const artist = text(e.artist);
    const album = text(e.album);
    if (title) item.title = title;
    if (artist) item.artist = artist;
    if (album) item.album = album;
    out.push(item);
  }
  return out;
}
