// @vitest-environment happy-dom
// Tests of the host's session hook rendered in a document, with the real protocol client over a
// stand-in socket: the word for where the session stands, the intents it offers (chat, react,
// kick), which relay errors become a notice, ending, and a reload: the tab resumes its session
// (never leaving on pagehide), asks for a tap to play again, and "End session" forgets it.
// Creating needs Web Audio, which this document lacks, so the session arrives as the relay would
// send it.

import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, cleanup, renderHook } from '../../../../__tests__/dom';
import type { ErrorCode, ParticipantView, ServerMessage } from '../../../../protocol/wire';
import { useHostSession } from '../useHostSession';

const familiar = { variant: 'ember', color: '#ff8f6b', accent: 'orbit', seed: 2 } as const;
const person = (user_id: string, role: ParticipantView['role']): ParticipantView => ({
  user_id,
  username: user_id,
  role,
  familiar,
  joined_at: '2024-01-01T00:00:00Z',
  webrtc_connected: false,
  away: false,
});
const created: ServerMessage = {
  type: 'session_created',
  session: {
    id: 's1',
    code: 'ABC123',
    name: 'Friday',
    host_id: 'h',
    created_at: '2024-01-01T00:00:00Z',
    participant_count: 1,
    webrtc_enabled: true,
    has_password: false,
    playback_state: { track_id: null, is_playing: false, position_ms: 0 },
    participants: [person('h', 'host')],
    seq: 0,
  },
  your_user_id: 'h',
  ice_servers: [],
  resume_token: 'tok',
};
const error = (code: ErrorCode): ServerMessage => ({ type: 'error', code, message: `relay says ${code}` });

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('WebSocket', FakeSocket);
  FakeSocket.all = [];
  sessionStorage.clear();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function liveHook() {
  const hook = renderHook(() => useHostSession());
  const socket = FakeSocket.last;
  socket.accept();
  socket.deliver(created);
  return { ...hook, socket };
}

describe('useHostSession', () => {
  it('is at setup until a session exists, then live', () => {
    const { result } = renderHook(() => useHostSession());
    expect(result.current.state).toBe('setup');
    const socket = FakeSocket.last;
    socket.accept();
    socket.deliver(created);
    expect(result.current.state).toBe('live');
    expect(result.current.room.session?.code).toBe('ABC123');
  });

  it('chats, reacts and kicks through intents', () => {
    const { result, socket } = liveHook();
    socket.deliver({ type: 'user_joined', user: person('g', 'guest'), participant_count: 2 });
    act(() => {
      result.current.chat('welcome');
      result.current.react('wave');
      result.current.kick('g');
    });
    expect(socket.messages()).toEqual([
      { type: 'chat', message: 'welcome', id: expect.any(String) },
      { type: 'reaction', kind: 'wave', id: expect.any(String) },
      { type: 'kick', target_user_id: 'g' },
    ]);
  });

  it('tells the host about errors except the resume fallbacks', () => {
    const { result, socket } = liveHook();
    for (const code of ['host_not_back', 'invalid_token', 'token_expired'] as const) {
      socket.deliver(error(code));
      expect(result.current.notice).toBeNull();
    }
    // The host has no screen for this one, so it is said in words.
    socket.deliver(error('already_in_session'));
    expect(result.current.notice).toBe('relay says already_in_session');
    act(() => result.current.dismissNotice());
    socket.deliver(error('rate_limited'));
    expect(result.current.notice).toBe('relay says rate_limited');
  });

  it('says the relay is restarting', () => {
    const { result, socket } = liveHook();
    socket.deliver({ type: 'server_restarting', retry_after_ms: 5000 });
    expect(result.current.state).toBe('restarting');
  });

  it('says it is reconnecting when the socket drops', () => {
    const { result, socket } = liveHook();
    act(() => socket.close(1006));
    expect(result.current.state).toBe('reconnecting');
  });

  it('ends: leaves the session and goes back to setup', () => {
    const { result, socket } = liveHook();
    act(() => result.current.end());
    expect(socket.of('leave')).toHaveLength(1);
    expect(result.current.state).toBe('setup');
  });

  it('does not leave on pagehide: a reload must not end the session', () => {
    const { socket } = liveHook();
    act(() => {
      dispatchEvent(new Event('pagehide'));
    });
    expect(socket.of('leave')).toHaveLength(0);
  });
});

describe('after a reload', () => {
  const intent = { type: 'create', name: 'Friday', familiar } as const;
  const resumed: ServerMessage = { ...(created as Extract<ServerMessage, { type: 'session_created' }>), type: 'session_resumed', your_peer_id: 'p' };

  beforeEach(() => {
    sessionStorage.setItem('familiar:resume:host', 'tok-before');
    sessionStorage.setItem('familiar:host:setup', JSON.stringify({ tab: 'tab-1', intent, source: 'tone', bpm: 100 }));
  });

  it('resumes with the stored token, then asks for a tap to play again', () => {
    const { result } = renderHook(() => useHostSession());
    expect(result.current.state).toBe('resuming');
    const socket = FakeSocket.last;
    socket.accept();
    expect(socket.of('resume')).toEqual([{ type: 'resume', token: 'tok-before' }]);
    expect(socket.of('create')).toHaveLength(0);
    socket.deliver(resumed);
    expect(result.current.state).toBe('live');
    expect(result.current.needsResume).toBe(true);
    expect(result.current.bpm).toBe(100);
    expect(result.current.notice).toBeNull();
  });

  it('creates afresh with the same setup when the relay no longer knows the token, and says so', () => {
    const { result } = renderHook(() => useHostSession());
    const socket = FakeSocket.last;
    socket.accept();
    socket.deliver(error('invalid_token'));
    expect(socket.of('create')).toEqual([{ ...intent, capabilities: ['resume'] }]);
    socket.deliver(created);
    expect(result.current.state).toBe('live');
    expect(result.current.notice).toMatch(/new code/);
  });

  it('End session leaves and forgets the tab’s session, so the next load starts at setup', () => {
    const { result } = renderHook(() => useHostSession());
    const socket = FakeSocket.last;
    socket.accept();
    socket.deliver(resumed);
    act(() => result.current.end());
    expect(socket.of('leave')).toHaveLength(1);
    expect(sessionStorage.getItem('familiar:host:setup')).toBeNull();
    expect(sessionStorage.getItem('familiar:resume:host')).toBeNull();
    cleanup();
    expect(renderHook(() => useHostSession()).result.current.state).toBe('setup');
  });

  it('without a token beside it, a saved setup is ignored', () => {
    sessionStorage.removeItem('familiar:resume:host');
    expect(renderHook(() => useHostSession()).result.current.state).toBe('setup');
  });
});
