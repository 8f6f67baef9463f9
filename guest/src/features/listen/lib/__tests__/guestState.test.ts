// Unit tests of the guest's audio decisions: when to ask the host for audio again, and the word
// for where the session stands, above all while the audio is interrupted or the host is away.

import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../../protocol/wire';
import { guestState, wantsAudio, type Link } from '../guestState';

describe('wantsAudio', () => {
  const working = { isLive: true, isConnected: true };
  const dead = { isLive: false, isConnected: false };
  const connecting = { isLive: true, isConnected: false };
  const joined = { type: 'session_joined' } as ServerMessage;
  const resumed = { type: 'session_resumed' } as ServerMessage;
  const back = (user_id: string) => ({ type: 'user_back', user_id }) as ServerMessage;

  it('asks on joining, whatever it had', () => {
    expect(wantsAudio(joined, 'h', null)).toBe(true);
    expect(wantsAudio(joined, 'h', working)).toBe(true);
  });

  it('keeps a connection that still works across a resume (a relay restart)', () => {
    expect(wantsAudio(resumed, 'h', working)).toBe(false);
    expect(wantsAudio(resumed, 'h', connecting)).toBe(false);
    expect(wantsAudio(resumed, 'h', dead)).toBe(true);
    expect(wantsAudio(resumed, 'h', null)).toBe(true);
  });

  it('asks again when the host is back and the audio is not connected', () => {
    expect(wantsAudio(back('h'), 'h', null)).toBe(true);
    expect(wantsAudio(back('h'), 'h', dead)).toBe(true);
    // A request made while the host was away was dropped by the relay: ask even if one is pending.
    expect(wantsAudio(back('h'), 'h', connecting)).toBe(true);
    expect(wantsAudio(back('h'), 'h', working)).toBe(false);
    // Another member coming back changes nothing.
    expect(wantsAudio(back('g'), 'h', null)).toBe(false);
    expect(wantsAudio({ type: 'host_away', user_id: 'h' } as ServerMessage, 'h', null)).toBe(false);
  });
});

describe('guestState', () => {
  const room = { ended: null, session: {} as never, hostAway: false };
  const online = { state: 'open' as const, inSession: true, restarting: false, failures: 0 };
  const state = (link: Link, hostAway = false, playState: 'idle' | 'playing' | 'blocked' = 'playing') =>
    guestState({ ...room, hostAway }, online, false, undefined, link, playState);

  it('is connected only while the audio link is up and playing', () => {
    expect(state('connected')).toBe('connected');
    expect(state('connected', false, 'idle')).toBe('starting');
    expect(state('negotiating')).toBe('negotiating');
  });

  it('says the audio is interrupted while the connection is down, not "Connected"', () => {
    expect(state('interrupted')).toBe('interrupted');
    // Even if the element still thinks it plays, or autoplay would need a tap.
    expect(state('interrupted', false, 'blocked')).toBe('interrupted');
  });

  it('waits for an away host instead of pretending to connect', () => {
    expect(state('negotiating', true)).toBe('interrupted');
    expect(state('interrupted', true)).toBe('interrupted');
    // Audio that still flows peer to peer while the host's socket is away stays connected.
    expect(state('connected', true)).toBe('connected');
    // A setup failure is still shown as one.
    expect(state('failed', true)).toBe('ice_failed');
  });

  it('puts the relay and the session first', () => {
    expect(guestState(room, { ...online, restarting: true }, false, undefined, 'interrupted', 'playing')).toBe('restarting');
    expect(guestState(room, { ...online, state: 'waiting' }, false, undefined, 'connected', 'playing')).toBe('reconnecting');
    expect(guestState(room, { ...online, state: 'waiting', failures: 3 }, false, undefined, 'connected', 'playing')).toBe(
      'unreachable',
    );
    expect(guestState({ ...room, ended: 'host_ended' }, online, false, undefined, 'interrupted', 'playing')).toBe('host_ended');
    expect(guestState({ ...room, session: null }, online, true, undefined, 'idle', 'idle')).toBe('joining');
    expect(guestState({ ...room, session: null }, online, false, 'kicked', 'idle', 'idle')).toBe('kicked');
  });
});
