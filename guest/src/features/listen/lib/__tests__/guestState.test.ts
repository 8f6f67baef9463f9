// Unit tests of the word for where the guest's session stands, above all while the audio is
// interrupted or the host is away.

import { describe, expect, it } from 'vitest';
import type { Link } from '../guestLink';
import { guestState } from '../guestState';

describe('guestState', () => {
  const room = { ended: null, session: {} as never, hostAway: false };
  const online = { state: 'open' as const, inSession: true, restarting: false, failures: 0 };
  const state = (link: Link, hostAway = false, playState: 'idle' | 'playing' | 'blocked' = 'playing') =>
    guestState({ ...room, hostAway }, online, false, null, link, playState);

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
    expect(guestState(room, { ...online, restarting: true }, false, null, 'interrupted', 'playing')).toBe('restarting');
    expect(guestState(room, { ...online, state: 'waiting' }, false, null, 'connected', 'playing')).toBe('reconnecting');
    expect(guestState(room, { ...online, state: 'waiting', failures: 3 }, false, null, 'connected', 'playing')).toBe(
      'unreachable',
    );
    expect(guestState({ ...room, ended: 'host_ended' }, online, false, null, 'interrupted', 'playing')).toBe('host_ended');
    expect(guestState({ ...room, session: null }, online, true, null, 'idle', 'idle')).toBe('joining');
    expect(guestState({ ...room, session: null }, online, false, 'kicked', 'idle', 'idle')).toBe('kicked');
  });
});
