// Unit tests of the session reducer: joins, leaves, updates, endings, chat, reactions, links,
// playback position extrapolation, and the screen-reader sentence for reactions.

import { describe, expect, it } from 'vitest';
import {
  initialSessionState,
  positionAt,
  reactionAnnouncement,
  sessionReducer,
  type Reaction,
  type SessionState,
} from '../state';
import type { ParticipantView, ReactionKind, ServerMessage } from '../../protocol/wire';
import { sessionView } from '../../__tests__/relayFakes';

function person(user_id: string, role: ParticipantView['role'] = 'guest'): ParticipantView {
  return {
    user_id,
    username: user_id.toUpperCase(),
    role,
    familiar: { variant: 'halo', color: '#7dd3fc', accent: 'drift', seed: 1 },
    joined_at: '2024-01-01T00:00:00Z',
    webrtc_connected: false,
    away: false,
  };
}

function run(messages: ServerMessage[], start: SessionState = initialSessionState, now = 1000) {
  return messages.reduce((s, msg, i) => sessionReducer(s, { type: 'server', msg, now: now + i }), start);
}

const joined: ServerMessage = {
  type: 'session_joined',
  session: sessionView({
    id: 's',
    playback_state: { track_id: 't1', is_playing: true, position_ms: 5000 },
    track_meta: { title: 'Song', artist: 'Band', bpm: 120 },
    participants: [person('h', 'host'), { ...person('me'), webrtc_connected: true, ice_path: 'stun' }],
    seq: 3,
  }),
  your_user_id: 'me',
  your_peer_id: 'p',
  ice_servers: [],
  resume_token: 'tok',
};

describe('sessionReducer', () => {
  it('takes the room, playback and metadata from session_joined', () => {
    const s = run([joined]);
    expect(s.me).toBe('me');
    expect(s.session?.name).toBe('Friday');
    expect(s.participants.map((p) => p.user_id)).toEqual(['h', 'me']);
    expect(s.count).toBe(2);
    expect(s.trackMeta?.title).toBe('Song');
    expect(s.playback).toEqual({ trackId: 't1', isPlaying: true, positionMs: 5000, receivedAt: 1000 });
    expect(s.links.me).toEqual({ connected: true, path: 'stun' });
    expect(s.trackChangedAt).toBeNull();
  });

  it('adds, updates and removes participants', () => {
    const s = run([
      joined,
      { type: 'user_joined', user: person('b'), participant_count: 3 },
      { type: 'user_joined', user: person('c'), participant_count: 4 },
      { type: 'user_updated', user: { ...person('b'), username: 'Bea' } },
      { type: 'user_left', user_id: 'c', participant_count: 3, reason: 'disconnected' },
    ]);
    expect(s.participants.map((p) => `${p.user_id}:${p.username}`)).toEqual(['h:H', 'me:ME', 'b:Bea']);
    expect(s.count).toBe(3);
    expect(s.ended).toBeNull();
  });

  it('does not duplicate a participant announced twice', () => {
    const s = run([joined, { type: 'user_joined', user: person('b'), participant_count: 3 }, { type: 'user_joined', user: person('b'), participant_count: 3 }]);
    expect(s.participants).toHaveLength(3);
  });

  it('ends when the host leaves, and only on that reason', () => {
    const kicked = run([joined, { type: 'user_left', user_id: 'b', participant_count: 2, reason: 'kicked' }]);
    expect(kicked.ended).toBeNull();
    const s = run([joined, { type: 'user_left', user_id: 'h', participant_count: 1, reason: 'host_left' }]);
    expect(s.ended).toBe('host_ended');
    expect(run([joined, { type: 'session_ended', reason: 'host_left' }]).ended).toBe('host_ended');
  });

  it('keeps the first ending: a kick is not overwritten by the later close', () => {
    const s = run([
      joined,
      { type: 'user_kicked', user_id: 'me', reason: 'host_kicked' },
      { type: 'session_ended', reason: 'x' },
    ]);
    expect(s.ended).toBe('kicked');
    expect(run([joined, { type: 'left' }]).ended).toBe('left');
  });

  it('tracks away and back, and the host being away', () => {
    let s = run([joined, { type: 'host_away', user_id: 'h', grace_ms: 30000 }]);
    expect(s.hostAway).toBe(true);
    expect(s.participants[0]?.away).toBe(true);
    s = run([{ type: 'user_back', user_id: 'h' }], s);
    expect(s.hostAway).toBe(false);
    expect(s.participants[0]?.away).toBe(false);
    s = run([{ type: 'user_away', user_id: 'me' }], s);
    expect(s.participants[1]?.away).toBe(true);
  });

  it('replaces playback and metadata, glowing only when the track changes', () => {
    let s = run([joined]);
    s = sessionReducer(s, {
      type: 'server',
      now: 2000,
      msg: { type: 'playback_update', track_id: 't1', is_playing: false, position_ms: 6000, track_meta: { title: 'Song' } },
    });
    expect(s.trackChangedAt).toBeNull();
    expect(s.playback.isPlaying).toBe(false);
    s = sessionReducer(s, {
      type: 'server',
      now: 3000,
      msg: { type: 'playback_update', track_id: 't2', is_playing: true, position_ms: 0 },
    });
    expect(s.trackChangedAt).toBe(3000);
    expect(s.trackMeta).toBeNull();
    s = sessionReducer(s, {
      type: 'server',
      now: 4000,
      msg: { type: 'sync_response', track_id: 't2', is_playing: true, position_ms: 900 },
    });
    expect(s.playback).toEqual({ trackId: 't2', isPlaying: true, positionMs: 900, receivedAt: 4000 });
  });

  it('keeps a heartbeat from blanking the title', () => {
    const s = run([
      joined,
      { type: 'playback_update', track_id: 't1', is_playing: true, position_ms: 7000, track_meta: { title: 'Song' }, heartbeat: true },
    ]);
    expect(s.trackMeta?.title).toBe('Song');
  });

  it('appends chat with local ids and keeps it across a resume', () => {
    let s = run([
      joined,
      { type: 'chat', user_id: 'h', username: 'H', message: 'hello' },
      { type: 'chat', user_id: 'me', username: 'ME', message: 'hi!' },
    ]);
    expect(s.chat.map((c) => c.message)).toEqual(['hello', 'hi!']);
    expect(new Set(s.chat.map((c) => c.id)).size).toBe(2);
    s = run([{ ...joined, type: 'session_resumed' } as ServerMessage], s);
    expect(s.chat).toHaveLength(2);
  });

  it('puts a chat handed back late after a restart in its place by seq', () => {
    const s = run([
      joined,
      { type: 'chat', user_id: 'h', username: 'H', message: 'one', seq: 10 },
      { type: 'chat', user_id: 'h', username: 'H', message: 'three', seq: 30 },
      { type: 'chat', user_id: 'h', username: 'H', message: 'four', seq: 40 },
      { type: 'chat', user_id: 'a', username: 'A', message: 'two', seq: 20 },
      { type: 'chat', user_id: 'h', username: 'H', message: 'unnumbered' },
    ]);
    expect(s.chat.map((c) => c.message)).toEqual(['one', 'two', 'three', 'four', 'unnumbered']);
  });

  it('keeps recent known reactions only', () => {
    let s = run([joined]);
    const react = (kind: string, now: number) =>
      (s = sessionReducer(s, {
        type: 'server',
        now,
        // An unknown kind (a newer relay's) arrives typed as a known one would.
        msg: { type: 'user_reaction', user_id: 'h', username: 'H', kind: kind as ReactionKind, timestamp: now },
      }));
    react('cheer', 1000);
    react('dance', 1100);
    react('spark', 2000);
    expect(s.reactions.map((r) => r.kind)).toEqual(['cheer', 'spark']);
    react('wave', 5900);
    expect(s.reactions.map((r) => r.kind)).toEqual(['spark', 'wave']);
  });

  it('records each member audio link', () => {
    let s = run([joined, { type: 'user_joined', user: person('b'), participant_count: 3 }]);
    s = run([{ type: 'webrtc_state_changed', user_id: 'b', connected: true, path: 'turn' }], s);
    expect(s.links.b).toEqual({ connected: true, path: 'turn' });
    expect(s.participants.find((p) => p.user_id === 'b')).toMatchObject({ webrtc_connected: true, ice_path: 'turn' });
    s = run([{ type: 'webrtc_state_changed', user_id: 'b', connected: false, failed_stage: 'ice' }], s);
    expect(s.links.b).toEqual({ connected: false, failedStage: 'ice' });
    s = run([{ type: 'user_left', user_id: 'b', participant_count: 2 }], s);
    expect(s.links.b).toBeUndefined();
  });

  it('resets', () => {
    expect(sessionReducer(run([joined]), { type: 'reset' })).toBe(initialSessionState);
  });
});

describe('positionAt', () => {
  it('advances while playing', () => {
    expect(positionAt({ trackId: 't', isPlaying: true, positionMs: 5000, receivedAt: 1000 }, 3500)).toBe(7500);
  });

  it('stands still while paused', () => {
    expect(positionAt({ trackId: 't', isPlaying: false, positionMs: 5000, receivedAt: 1000 }, 3500)).toBe(5000);
  });

  it('never runs backwards when clocks disagree', () => {
    expect(positionAt({ trackId: 't', isPlaying: true, positionMs: 5000, receivedAt: 4000 }, 3500)).toBe(5000);
  });
});

describe('reactionAnnouncement', () => {
  const people = [person('h', 'host'), { ...person('ana'), username: 'Ana' }, { ...person('bo'), username: 'Bo' }, person('me')];
  let id = 0;
  const r = (user_id: string, kind: Reaction['kind']): Reaction => ({ id: ++id, user_id, kind, at: 0 });

  it('names who reacted and how, in order', () => {
    expect(reactionAnnouncement([r('ana', 'cheer')], 0, people, 'me')).toBe('Ana cheered.');
    const two = [r('ana', 'wave'), r('h', 'pulse')];
    expect(reactionAnnouncement(two, 0, people, 'me')).toBe('Ana waved, H sent a pulse.');
  });

  it('says each person and kind once, however often it was sent', () => {
    const burst = [r('ana', 'cheer'), r('ana', 'cheer'), r('bo', 'spark'), r('ana', 'cheer')];
    expect(reactionAnnouncement(burst, 0, people, 'me')).toBe('Ana cheered, Bo sent a spark.');
  });

  it('leaves out our own reactions and those already announced', () => {
    const list = [r('ana', 'cheer'), r('me', 'wave'), r('bo', 'wave')];
    expect(reactionAnnouncement(list, list[0]!.id, people, 'me')).toBe('Bo waved.');
    expect(reactionAnnouncement(list.slice(0, 2), list[0]!.id, people, 'me')).toBe('');
    expect(reactionAnnouncement([], 0, people, 'me')).toBe('');
  });

  it('words out three and sums up the rest, so a storm stays one short sentence', () => {
    const storm = [r('ana', 'cheer'), r('bo', 'wave'), r('h', 'spark'), r('ana', 'pulse'), r('bo', 'cheer')];
    expect(reactionAnnouncement(storm, 0, people, 'me')).toBe('Ana cheered, Bo waved, H sent a spark and others.');
  });

  it('still says something for a sender who already left', () => {
    expect(reactionAnnouncement([r('gone', 'wave')], 0, people, 'me')).toBe('Someone waved.');
  });
});

describe('up next (the host’s queue, when the relay passes it on)', () => {
  const update = (extra: Record<string, unknown>) =>
    ({ type: 'playback_update', track_id: 't1', is_playing: true, position_ms: 0, track_meta: { title: 'Song' }, ...extra }) as ServerMessage;

  it('is unknown (null) until a playback_update carries it, so the page shows no list', () => {
    expect(run([joined]).upNext).toBeNull();
    expect(run([joined, update({})]).upNext).toBeNull();
  });

  it('takes the list from playback_update, replaced by each one', () => {
    const s = run([joined, update({ up_next: [{ title: 'Next', artist: 'Band' }, { title: 'After', album: 'LP' }] })]);
    expect(s.upNext).toEqual([{ title: 'Next', artist: 'Band' }, { title: 'After', album: 'LP' }]);
    expect(run([update({ up_next: [] })], s).upNext).toEqual([]);
    // A relay that stops passing it on (an older one after a restart): unknown again.
    expect(run([update({})], s).upNext).toBeNull();
  });

  it('keeps it across sync_response, which never carries it', () => {
    const s = run([joined, update({ up_next: [{ title: 'Next' }] })]);
    const synced = run([{ type: 'sync_response', track_id: 't1', is_playing: true, position_ms: 900 }], s);
    expect(synced.upNext).toEqual([{ title: 'Next' }]);
  });

  it('reads a late joiner’s list from the session view', () => {
    const withList = { ...joined, session: { ...(joined as Extract<ServerMessage, { type: 'session_joined' }>).session, up_next: [{ title: 'Queued' }] } } as ServerMessage;
    expect(run([withList]).upNext).toEqual([{ title: 'Queued' }]);
  });

  it('is read leniently: ten at most, strings only, cut to 200 characters', () => {
    const many = Array.from({ length: 14 }, (_, i) => ({ title: `T${i}` }));
    expect(run([joined, update({ up_next: many })]).upNext).toHaveLength(10);
    const odd = run([joined, update({ up_next: [{ title: 5, artist: 'A' }, null, 'x', { title: 'y'.repeat(300) }] })]).upNext;
    expect(odd).toEqual([{ artist: 'A' }, { title: 'y'.repeat(200) }]);
    expect(run([joined, update({ up_next: 'nope' })]).upNext).toBeNull();
  });
});
