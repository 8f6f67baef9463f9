// @vitest-environment happy-dom
// Tests of the guest's session hook rendered in a document, with the real protocol client over a
// stand-in socket and the real GuestLink over a stand-in peer connection: joining, the word for
// where things stand, asking for audio, the intents it offers, refusals, notices and leaving.

import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, cleanup, renderHook } from '../../../../__tests__/dom';
import type { ParticipantView, ServerMessage } from '../../../../protocol/wire';
import { sessionView } from '../../../../__tests__/relayFakes';
import { REQUEST_DELAY_MS } from '../../lib/guestLink';
import { FakePeerConnection } from '../../lib/__tests__/fakePeerConnection';
import { useGuestSession } from '../useGuestSession';

const familiar = { variant: 'halo', color: '#7dd3fc', accent: 'drift', seed: 1 } as const;
const person = (user_id: string, role: ParticipantView['role']): ParticipantView => ({
  user_id,
  username: user_id.toUpperCase(),
  role,
  familiar,
  joined_at: '2024-01-01T00:00:00Z',
  webrtc_connected: false,
  away: false,
});
const session = sessionView({ participants: [person('h', 'host'), person('me', 'guest')] });
const joined: ServerMessage = {
  type: 'session_joined',
  session,
  your_user_id: 'me',
  your_peer_id: 'p',
  ice_servers: [],
  resume_token: 'tok',
};
const error = (code: Extract<ServerMessage, { type: 'error' }>['code'], message = `relay says ${code}`): ServerMessage => ({
  type: 'error',
  code,
  message,
});

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
  FakeSocket.all = [];
  FakePeerConnection.all = [];
  sessionStorage.clear();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Mounted, the socket open, Join pressed, and the relay's welcome delivered. */
function joinedHook() {
  const hook = renderHook(() => useGuestSession('ABC123', false));
  const socket = FakeSocket.last;
  socket.accept();
  act(() => hook.result.current.join('Ana', familiar, ''));
  socket.deliver(joined);
  return { ...hook, socket };
}

describe('useGuestSession', () => {
  it('joins with what the person chose, and stands at ready until then', () => {
    const { result } = renderHook(() => useGuestSession('ABC123', false));
    expect(result.current.state).toBe('ready');
    expect(result.current.active).toBe(false);
    const socket = FakeSocket.last;
    socket.accept();
    act(() => result.current.join('Ana', familiar, 'pw'));
    expect(result.current.state).toBe('joining');
    expect(result.current.active).toBe(true);
    expect(socket.messages()).toEqual([
      { type: 'join_guest', code: 'ABC123', familiar, guest_name: 'Ana', password: 'pw', capabilities: ['resume'] },
    ]);
  });

  it('takes the room from the welcome, then asks the host for audio', () => {
    const { result, socket } = joinedHook();
    expect(result.current.state).toBe('negotiating');
    expect(result.current.room.session?.name).toBe('Friday');
    expect(result.current.room.participants.map((p) => p.user_id)).toEqual(['h', 'me']);
    expect(socket.of('webrtc_request')).toHaveLength(0);
    act(() => vi.advanceTimersByTime(REQUEST_DELAY_MS));
    expect(socket.of('webrtc_request')).toHaveLength(1);
  });

  it('answers the offer and says connected once audio flows', async () => {
    const { result, socket } = joinedHook();
    socket.deliver({ type: 'webrtc_offer', sdp: { type: 'offer', sdp: 'v=0 offer' }, from_user_id: 'h' });
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(socket.of('webrtc_answer')).toHaveLength(1);
    await act(async () => {
      FakePeerConnection.last.to('connected', 'connected');
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(result.current.path).toBe('direct');
    // Nothing plays in this document (no <audio> element), so the audio is still starting.
    expect(result.current.state).toBe('starting');
    expect(socket.of('webrtc_connected').at(-1)).toEqual({ type: 'webrtc_connected', connected: true, path: 'direct' });
  });

  it('explains a signaling failure in words', () => {
    const { result } = joinedHook();
    act(() => vi.advanceTimersByTime(REQUEST_DELAY_MS + 2 * 12_000));
    expect(result.current.state).toBe('ice_failed');
    expect(result.current.failure).toBe("The host's player didn't answer. It may be busy; try again in a moment.");
    act(() => result.current.retryAudio());
    expect(result.current.state).toBe('negotiating');
    expect(result.current.failure).toBeNull();
  });

  it('chats and reacts through intents', () => {
    const { result, socket } = joinedHook();
    let sent = false;
    act(() => {
      sent = result.current.chat('hello');
      result.current.react('cheer');
    });
    expect(sent).toBe(true);
    expect(socket.of('chat')).toEqual([{ type: 'chat', message: 'hello', id: expect.any(String) }]);
    expect(socket.of('reaction')).toEqual([{ type: 'reaction', kind: 'cheer', id: expect.any(String) }]);
    socket.deliver({ type: 'chat', user_id: 'h', username: 'H', message: 'hi Ana' });
    expect(result.current.room.chat.map((l) => l.message)).toEqual(['hi Ana']);
  });

  it('says chat could not go out while the socket is down', () => {
    const { result, socket } = joinedHook();
    act(() => socket.close(1006));
    let sent = true;
    act(() => {
      sent = result.current.chat('anyone?');
    });
    expect(sent).toBe(false);
    expect(result.current.state).toBe('reconnecting');
  });

  it('shows a refusal screen, and nothing for what the client handles itself', () => {
    const { result, socket } = joinedHook();
    socket.deliver(error('host_not_back'));
    socket.deliver(error('invalid_token'));
    socket.deliver(error('already_in_session'));
    expect(result.current.notice).toBeNull();
    socket.deliver(error('chat_too_long', 'Message too long'));
    expect(result.current.notice).toBe('Message too long');
    act(() => result.current.dismissNotice());
    expect(result.current.notice).toBeNull();
    socket.deliver(error('join_throttled'));
    expect(result.current.state).toBe('throttled');
  });

  it('names a wrong password, and joins again with another', () => {
    const { result } = renderHook(() => useGuestSession('ABC123', false));
    const socket = FakeSocket.last;
    socket.accept();
    act(() => result.current.join('Ana', familiar, 'nope'));
    socket.deliver(error('invalid_password'));
    expect(result.current.state).toBe('wrong_password');
    act(() => result.current.join('Ana', familiar, 'right'));
    expect(result.current.state).toBe('joining');
    expect(socket.of('join_guest').at(-1)?.password).toBe('right');
  });

  it('ends when the host does, closing the audio', async () => {
    const { result, socket } = joinedHook();
    socket.deliver({ type: 'webrtc_offer', sdp: { type: 'offer', sdp: 'v=0 offer' }, from_user_id: 'h' });
    await act(() => vi.advanceTimersByTimeAsync(0));
    socket.deliver({ type: 'session_ended', reason: 'host_left' });
    expect(result.current.state).toBe('host_ended');
    expect(FakePeerConnection.last.connectionState).toBe('closed');
  });

  it('leaves on purpose: tells the relay and ends even if the socket is down', () => {
    const { result, socket } = joinedHook();
    act(() => result.current.leave());
    expect(socket.of('leave')).toHaveLength(1);
    expect(result.current.state).toBe('left');
  });

  it('waits for an away host, and asks again when it is back', () => {
    const { result, socket } = joinedHook();
    socket.deliver({ type: 'host_away', user_id: 'h', grace_ms: 30_000 });
    expect(result.current.state).toBe('interrupted');
    act(() => vi.advanceTimersByTime(REQUEST_DELAY_MS + 5 * 12_000));
    expect(result.current.state).toBe('interrupted');
    expect(socket.of('webrtc_request')).toHaveLength(1);
    socket.deliver({ type: 'user_back', user_id: 'h' });
    act(() => vi.advanceTimersByTime(REQUEST_DELAY_MS));
    expect(socket.of('webrtc_request')).toHaveLength(2);
    expect(result.current.state).toBe('negotiating');
  });

  it('leaves the session when the page goes away', () => {
    const { socket, unmount } = joinedHook();
    unmount();
    expect(socket.of('leave')).toHaveLength(1);
    expect(socket.readyState).toBe(3);
  });
});
