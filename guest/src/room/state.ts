// Session state as both pages see it: a pure reducer over the relay's messages (who is in the
// room, playback and track metadata and what is up next, chat, reactions, each member's audio
// link, how it ended)
// plus playback position extrapolation. Pure so it is unit-tested without React or a socket.

import type {
  IcePath,
  ParticipantView,
  ServerMessage,
  SessionView,
  TrackMeta,
} from '../protocol/wire';
import { readUpNext, type UpNextItem } from '../protocol/upNext';
import { REACTION_VERBS, isReactionKind, type ReactionKind } from './reactions';

export interface ChatLine {
  id: number;
  user_id: string;
  username: string;
  message: string;
  /** The relay's order for it; a chat handed back late after a restart slots in by it. */
  seq?: number;
}

export interface Reaction {
  id: number;
  user_id: string;
  kind: ReactionKind;
  /** Local receive time, so the float animation and pruning use our clock. */
  at: number;
}

/** Playback as last reported, with the local time it arrived so the position can advance. */
export interface PlaybackClock {
  trackId: string | null;
  isPlaying: boolean;
  positionMs: number;
  receivedAt: number;
}

/** How a member's audio connected, as reported in `webrtc_state_changed`. */
export interface LinkInfo {
  connected: boolean;
  path?: IcePath;
  failedStage?: string;
}

export type EndReason = 'kicked' | 'host_ended' | 'left';

export interface SessionState {
  session: Pick<SessionView, 'id' | 'code' | 'name' | 'host_id' | 'has_password'> | null;
  me: string | null;
  /** Host first, then in join order, as the relay sends them. */
  participants: ParticipantView[];
  count: number;
  playback: PlaybackClock;
  trackMeta: TrackMeta | null;
  /** What the host queued after this track; null when the relay does not pass `up_next` on. */
  upNext: UpNextItem[] | null;
  /** When the track last changed (local ms), to make the room glow once. */
  trackChangedAt: number | null;
  chat: ChatLine[];
  reactions: Reaction[];
  links: Record<string, LinkInfo>;
  hostAway: boolean;
  ended: EndReason | null;
  nextId: number;
}

export type SessionAction =
  | { type: 'server'; msg: ServerMessage; now: number }
  | { type: 'reset' };

/** Enough history for a listening session; older lines scroll away. */
const CHAT_LIMIT = 200;
/** A reaction floats for about two seconds; older ones are dropped from state. */
const REACTION_TTL_MS = 4000;
const REACTION_LIMIT = 40;

export const initialSessionState: SessionState = {
  session: null,
  me: null,
  participants: [],
  count: 0,
  playback: { trackId: null, isPlaying: false, positionMs: 0, receivedAt: 0 },
  trackMeta: null,
  upNext: null,
  trackChangedAt: null,
  chat: [],
  reactions: [],
  links: {},
  hostAway: false,
  ended: null,
  nextId: 1,
};

/** The position now, advancing from the last update while playing. */
export function positionAt(clock: PlaybackClock, now: number): number {
  if (!clock.isPlaying) return clock.positionMs;
  return clock.positionMs + Math.max(0, now - clock.receivedAt);
}

/**
 * The reactions after `sinceId` as one sentence for screen readers ("Ana cheered, Bo waved."):
 * each person's kind once, at most three and then "and others", never our own; '' if none.
 */
export function reactionAnnouncement(
  reactions: Reaction[],
  sinceId: number,
  participants: ParticipantView[],
  me: string | null,
): string {
  const said = new Set<string>();
  for (const r of reactions) {
    if (r.id <= sinceId || r.user_id === me) continue;
    const name = participants.find((p) => p.user_id === r.user_id)?.username ?? 'Someone';
    said.add(`${name} ${REACTION_VERBS[r.kind]}`);
  }
  return said.size ? `${[...said].slice(0, 3).join(', ')}${said.size > 3 ? ' and others' : ''}.` : '';
}

function upsert(list: ParticipantView[], user: ParticipantView): ParticipantView[] {
  const i = list.findIndex((p) => p.user_id === user.user_id);
  if (i === -1) return [...list, user];
  const next = list.slice();
  next[i] = user;
  return next;
}

function patchParticipant(
  list: ParticipantView[],
  userId: string,
  patch: Partial<ParticipantView>,
): ParticipantView[] {
  return list.map((p) => (p.user_id === userId ? { ...p, ...patch } : p));
}

function withoutKey<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const next = { ...record };
  delete next[key];
  return next;
}

function end(state: SessionState, reason: EndReason): SessionState {
  return state.ended ? state : { ...state, ended: reason };
}

export function sessionReducer(state: SessionState, action: SessionAction): SessionState {
  if (action.type === 'reset') return initialSessionState;
  const { msg, now } = action;
  switch (msg.type) {
    case 'session_created':
    case 'session_joined':
    case 'session_resumed': {
      const s = msg.session;
      const links: Record<string, LinkInfo> = {};
      for (const p of s.participants) {
        if (p.webrtc_connected || p.ice_path) {
          links[p.user_id] = { connected: p.webrtc_connected, ...(p.ice_path ? { path: p.ice_path } : {}) };
        }
      }
      // Chat and reactions survive a resume or re-join: they are this page's memory of the room.
      return {
        ...state,
        session: {
          id: s.id,
          code: s.code,
          name: s.name,
          host_id: s.host_id,
          has_password: s.has_password,
        },
        me: msg.your_user_id,
        participants: s.participants,
        count: s.participant_count,
        playback: {
          trackId: s.playback_state.track_id,
          isPlaying: s.playback_state.is_playing,
          positionMs: s.playback_state.position_ms,
          receivedAt: now,
        },
        trackMeta: s.track_meta ?? null,
        upNext: readUpNext(s),
        links: { ...state.links, ...links },
        hostAway: s.participants.some((p) => p.user_id === s.host_id && p.away),
        ended: null,
      };
    }
    case 'user_joined':
      return {
        ...state,
        participants: upsert(state.participants, msg.user),
        count: msg.participant_count,
      };
    case 'user_updated':
      return { ...state, participants: upsert(state.participants, msg.user) };
    case 'user_left': {
      const next: SessionState = {
        ...state,
        participants: state.participants.filter((p) => p.user_id !== msg.user_id),
        links: withoutKey(state.links, msg.user_id),
        count: msg.participant_count,
      };
      return msg.reason === 'host_left' ? end(next, 'host_ended') : next;
    }
    case 'user_kicked':
      // Only the kicked member receives this.
      return msg.user_id === state.me || state.me === null ? end(state, 'kicked') : state;
    case 'session_ended':
      return end(state, 'host_ended');
    case 'left':
      return end(state, 'left');
    case 'user_away':
      return { ...state, participants: patchParticipant(state.participants, msg.user_id, { away: true }) };
    case 'host_away':
      return {
        ...state,
        hostAway: true,
        participants: patchParticipant(state.participants, msg.user_id, { away: true }),
      };
    case 'user_back':
      return {
        ...state,
        hostAway: msg.user_id === state.session?.host_id ? false : state.hostAway,
        participants: patchParticipant(state.participants, msg.user_id, { away: false }),
      };
    case 'playback_update':
    case 'sync_response': {
      const trackChanged =
        state.session !== null && msg.track_id !== null && msg.track_id !== state.playback.trackId;
      return {
        ...state,
        playback: {
          trackId: msg.track_id,
          isPlaying: msg.is_playing,
          positionMs: msg.position_ms,
          receivedAt: now,
        },
        // Each playback replaces the metadata (absent means none); sync_response never carries it.
        trackMeta: msg.type === 'playback_update' ? (msg.track_meta ?? null) : state.trackMeta,
        // Like track_meta, each playback_update replaces it; one without it means none is known.
        upNext: msg.type === 'playback_update' ? readUpNext(msg) : state.upNext,
        trackChangedAt: trackChanged ? now : state.trackChangedAt,
      };
    }
    case 'chat': {
      const line: ChatLine = {
        id: state.nextId,
        user_id: msg.user_id,
        username: msg.username,
        message: msg.message,
        ...(msg.seq === undefined ? {} : { seq: msg.seq }),
      };
      return { ...state, chat: insertBySeq(state.chat, line).slice(-CHAT_LIMIT), nextId: state.nextId + 1 };
    }
    case 'user_reaction': {
      if (!isReactionKind(msg.kind)) return state;
      const fresh = state.reactions.filter((r) => now - r.at < REACTION_TTL_MS);
      const reaction: Reaction = { id: state.nextId, user_id: msg.user_id, kind: msg.kind, at: now };
      return {
        ...state,
        reactions: [...fresh, reaction].slice(-REACTION_LIMIT),
        nextId: state.nextId + 1,
      };
    }
    case 'webrtc_state_changed': {
      const link: LinkInfo = {
        connected: msg.connected,
        ...(msg.path ? { path: msg.path } : {}),
        ...(msg.failed_stage ? { failedStage: msg.failed_stage } : {}),
      };
      const patch: Partial<ParticipantView> = { webrtc_connected: msg.connected };
      if (msg.path) patch.ice_path = msg.path;
      return {
        ...state,
        links: { ...state.links, [msg.user_id]: link },
        participants: patchParticipant(state.participants, msg.user_id, patch),
      };
    }
    default:
      return state;
  }
}

/** Appends `line`, or puts it before the newest lines whose `seq` is above its own (a chat a
 * member handed back after a relay restart arrives after newer ones). */
function insertBySeq(chat: ChatLine[], line: ChatLine): ChatLine[] {
  const seq = line.seq;
  let at = chat.length;
  if (seq !== undefined) {
    while (at > 0 && (chat[at - 1]?.seq ?? -Infinity) > seq) at -= 1;
  }
  return [...chat.slice(0, at), line, ...chat.slice(at)];
}
