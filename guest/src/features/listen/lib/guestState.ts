// The one word for where the guest's session stands, from the room, the socket, the join, the
// audio link and playback; pure so it is unit-tested without React, a socket or WebRTC.

import type { ClientStatus } from '../../../protocol/client';
import { UNREACHABLE_AFTER, type JoinRefusal } from '../../../protocol/errors';
import type { EndReason, SessionState } from '../../../room/state';
import type { Link } from './guestLink';

export type GuestState =
  | 'ready'
  | 'joining'
  | 'negotiating'
  | 'starting'
  | 'blocked'
  | 'connected'
  | 'interrupted'
  | 'ice_failed'
  | 'reconnecting'
  | 'restarting'
  | 'unreachable'
  | JoinRefusal
  | EndReason;

/** Whether the <audio> element plays: `blocked` waits for a tap (the autoplay policy). */
export type PlayState = 'idle' | 'playing' | 'blocked';

/** Where the session stands, from the room, the socket, the join, the audio link and playback. */
export function guestState(
  room: Pick<SessionState, 'ended' | 'session' | 'hostAway'>,
  status: Pick<ClientStatus, 'state' | 'inSession' | 'restarting' | 'failures'>,
  joining: boolean,
  refusal: JoinRefusal | null,
  link: Link,
  playState: PlayState,
): GuestState {
  if (room.ended) return room.ended;
  if (refusal) return refusal;
  const unreachable = status.failures >= UNREACHABLE_AFTER;
  if (!room.session) return !joining ? 'ready' : unreachable ? 'unreachable' : 'joining';
  if (status.restarting) return 'restarting';
  if (status.state !== 'open' || !status.inSession) return unreachable ? 'unreachable' : 'reconnecting';
  if (link === 'failed') return 'ice_failed';
  // The audio dropped, or the host is away and nothing connects until it is back (the relay
  // drops our requests meanwhile). A connection that still works keeps playing through it.
  if (link === 'interrupted' || (room.hostAway && link !== 'connected')) return 'interrupted';
  if (playState === 'blocked') return 'blocked';
  if (link === 'connected') return playState === 'playing' ? 'connected' : 'starting';
  return 'negotiating';
}
