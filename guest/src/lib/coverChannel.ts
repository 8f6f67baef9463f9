// Cover art travels peer to peer, never through the relay: the host opens an RTCDataChannel
// named COVER_CHANNEL on each guest's connection before its offer (so adding it never needs a
// renegotiation), and sends one text message per track, and one when the channel opens:
// `{"track_id": "...", "jpeg": "data:image/jpeg;base64,..." | null}` (null: this track has no
// cover). A guest shows the picture while `track_id` is the one playing.

export const COVER_CHANNEL = 'familiar-cover';
/** Longer messages are ignored: a 160 px JPEG is a few KB. */
export const COVER_MAX_CHARS = 64_000;

export interface CoverMessage {
  track_id: string;
  jpeg: string | null;
}

export function encodeCover(msg: CoverMessage): string {
  return JSON.stringify(msg);
}

/** The message, or null for anything that is not one (too long, not JSON, not a JPEG data: URL). */
export function readCoverMessage(data: unknown): CoverMessage | null {
  if (typeof data !== 'string' || data.length > COVER_MAX_CHARS) return null;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { track_id, jpeg } = v as Record<string, unknown>;
  if (typeof track_id !== 'string') return null;
  if (jpeg === null) return { track_id, jpeg: null };
  if (typeof jpeg !== 'string' || !/^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/.test(jpeg)) return null;
  return { track_id, jpeg };
}
