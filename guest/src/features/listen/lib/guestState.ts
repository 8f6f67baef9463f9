// The guest's audio decisions, pure so they are unit-tested without React, a socket or WebRTC:
// when to ask the host for audio (again), and the one word for where the session stands.

import type { ClientStatus } from '../../../protocol/client';
import { UNREACHABLE_AFTER, type JoinRefusal } from '../../../protocol/errors';
import type { ServerMessage } from '../../../protocol/wire';
import type { EndReason, SessionState } from '../../../room/state';

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

/** The audio link as the page tracks it: `interrupted` is a drop it may recover from. */
export type Link = 'idle' | 'negotiating' | 'connected' | 'interrupted' | 'failed';

/**
 * Whether `msg` means asking the host for audio (`webrtc_request`): on joining; on a resume
 * (after a relay restart, say) unless the connection we have still works; and when the host is
 * back while we have no working connection, since the relay drops requests made while it was away.
 */
export function wantsAudio(
  msg: ServerMessage,
  hostId: string | undefined,
  peer: { isLive: boolean; isConnected: boolean } | null,
): boolean {
  if (msg.type === 'session_joined') return true;
  if (msg.type === 'session_resumed') return !peer?.isLive;
  return msg.type === 'user_back' && msg.user_id === hostId && !peer?.isConnected;
}

/** Where the session stands, from the room, the socket, the join, the audio link and playback. */
export function guestState(
  room: Pick<SessionState, 'ended' | 'session' | 'hostAway'>,
  status: Pick<ClientStatus, 'state' | 'inSession' | 'restarting' | 'failures'>,
  joining: boolean,
  refusal: JoinRefusal | undefined,
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
