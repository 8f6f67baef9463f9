// Unit tests of the protocol client against a fake WebSocket: joining, resume after a drop,
// backoff timing, the relay's restart delay, de-duplication by seq, and when it must not retry.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, sessionView } from '../../__tests__/relayFakes';
import { SessionClient, type TokenStore } from '../client';
import type { ServerMessage } from '../wire';


function memoryStore(): TokenStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

const session = sessionView();

function joined(token = 'tok-1', type: 'session_joined' | 'session_resumed' = 'session_joined', seq = 0) {
  return {
    type,
    session: { ...session, seq },
    your_user_id: 'me',
    your_peer_id: 'p',
    ice_servers: [],
    resume_token: token,
  } as const;
}

const joinIntent = {
  type: 'join_guest',
  code: 'ABC123',
  guest_name: 'Ada',
} as const;

/** What the client sends for an intent: it resumes, so it declares the capability. */
function sentFor<T extends object>(intent: T) {
  return { ...intent, capabilities: ['resume'] };
}

function latest(): FakeSocket {
  const s = FakeSocket.all[FakeSocket.all.length - 1];
  if (!s) throw new Error('no socket');
  return s;
}

let store: ReturnType<typeof memoryStore>;

function makeClient(random = 0.5) {
  return new SessionClient({
    url: 'ws://relay/api/v1/sessions/ws',
    tokenKey: 'familiar:resume:ABC123',
    storage: store,
    createSocket: (url) => new FakeSocket(url),
    random: () => random,
    backoffBaseMs: 1000,
    backoffMaxMs: 8000,
    restartJitterMs: 1000,
    hostNotBackRetryMs: 2000,
  });
}

beforeEach(() => {
  FakeSocket.all = [];
  store = memoryStore();
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionClient', () => {
  it('sends the join once the socket opens and stores the resume token', () => {
    const client = makeClient();
    const seen: string[] = [];
    client.onMessage((m) => seen.push(m.type));
    client.start(joinIntent);
    expect(latest().url).toBe('ws://relay/api/v1/sessions/ws');
    expect(latest().sent).toEqual([]);
    latest().accept();
    expect(latest().messages()).toEqual([sentFor(joinIntent)]);
    latest().deliver(joined('tok-1'));
    expect(seen).toEqual(['session_joined']);
    expect(store.data.get('familiar:resume:ABC123')).toBe('tok-1');
    expect(client.getStatus()).toMatchObject({ state: 'open', inSession: true });
  });

  it('reconnects after a drop and resumes with the token and last seq', () => {
    const client = makeClient(0.5);
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1'));
    latest().deliver({ type: 'chat', user_id: 'u', username: 'U', message: 'hi', seq: 7 });
    latest().drop();
    expect(client.getStatus().state).toBe('waiting');
    // First retry: step 1000 ms, equal jitter with random 0.5 → 750 ms.
    vi.advanceTimersByTime(749);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    latest().accept();
    expect(latest().messages()).toEqual([{ type: 'resume', token: 'tok-1', last_seq: 7 }]);
    latest().deliver(joined('tok-2', 'session_resumed'));
    expect(store.data.get('familiar:resume:ABC123')).toBe('tok-2');
    expect(client.getStatus()).toMatchObject({ state: 'open', inSession: true });
  });

  it('backs off exponentially with jitter while the relay is unreachable', () => {
    const client = makeClient(0);
    client.start(joinIntent);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const count = FakeSocket.all.length;
      latest().drop(); // never opened
      const started = Date.now();
      while (FakeSocket.all.length === count) vi.advanceTimersByTime(10);
      delays.push(Date.now() - started);
    }
    // random 0 → half of each step: 1000, 2000, 4000, 8000 (capped), 8000...
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(client.getStatus().failures).toBe(6);
  });

  it('jitter spreads the delay over the upper half of the step', () => {
    const client = makeClient(1);
    client.start(joinIntent);
    latest().drop();
    const started = Date.now();
    while (FakeSocket.all.length === 1) vi.advanceTimersByTime(10);
    expect(Date.now() - started).toBe(1000);
  });

  it('resets the backoff once back in the session', () => {
    const client = makeClient(0);
    client.start(joinIntent);
    latest().drop();
    vi.advanceTimersByTime(500);
    latest().drop();
    vi.advanceTimersByTime(1000);
    latest().accept();
    latest().deliver(joined());
    latest().drop();
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(4);
    expect(client.getStatus().state).toBe('connecting');
  });

  it('waits retry_after_ms plus jitter after server_restarting', () => {
    const client = makeClient(0.25);
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined());
    latest().deliver({ type: 'server_restarting', retry_after_ms: 3000 });
    expect(client.getStatus().restarting).toBe(true);
    latest().close(1012, 'restart');
    vi.advanceTimersByTime(3249);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    latest().accept();
    expect(latest().messages()[0]).toMatchObject({ type: 'resume' });
    latest().deliver(joined('tok-3', 'session_resumed'));
    expect(client.getStatus().restarting).toBe(false);
  });

  it('asks again after host_not_back', () => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1'));
    latest().drop();
    vi.advanceTimersByTime(1000);
    latest().accept();
    latest().deliver({ type: 'error', code: 'host_not_back', message: 'x' });
    expect(latest().messages()).toHaveLength(1);
    vi.advanceTimersByTime(2000);
    expect(latest().messages()).toEqual([
      { type: 'resume', token: 'tok-1', last_seq: 0 },
      { type: 'resume', token: 'tok-1', last_seq: 0 },
    ]);
  });

  it.each(['invalid_token', 'token_expired'] as const)('falls back to a fresh join on %s', (code) => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1'));
    latest().drop();
    vi.advanceTimersByTime(1000);
    latest().accept();
    latest().deliver({ type: 'error', code, message: 'x' });
    expect(latest().messages()).toEqual([
      { type: 'resume', token: 'tok-1', last_seq: 0 },
      sentFor(joinIntent),
    ]);
    expect(store.data.has('familiar:resume:ABC123')).toBe(false);
  });

  it('resumes after a page reload when this tab still holds a token', () => {
    store.data.set('familiar:resume:ABC123', 'tok-old');
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    // Nothing seen in this page yet: no last_seq, so the relay replays nothing.
    expect(latest().messages()).toEqual([{ type: 'resume', token: 'tok-old' }]);
    latest().deliver(joined('tok-new', 'session_resumed', 12));
    expect(client.lastSeq).toBe(12);
  });

  it('ignores chat and reactions it has already seen, keeps playback', () => {
    const client = makeClient();
    const got: ServerMessage[] = [];
    client.onMessage((m) => got.push(m));
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined());
    const chat = { type: 'chat', user_id: 'u', username: 'U', message: 'one', seq: 1 };
    const reaction = {
      type: 'user_reaction',
      user_id: 'u',
      username: 'U',
      kind: 'cheer',
      timestamp: 1,
      seq: 2,
    };
    const playback = {
      type: 'playback_update',
      track_id: 't',
      is_playing: true,
      position_ms: 10,
      seq: 3,
    };
    latest().deliver(chat);
    latest().deliver(reaction);
    latest().deliver(playback);
    // The replay after a resume repeats them; only the playback state passes (it is idempotent).
    latest().deliver(chat);
    latest().deliver(reaction);
    latest().deliver(playback);
    latest().deliver({ ...chat, message: 'two', seq: 4 });
    latest().deliver({ type: 'chat', user_id: 'old', username: 'Old', message: 'no seq' });
    expect(got.map((m) => m.type)).toEqual([
      'session_joined',
      'chat',
      'user_reaction',
      'playback_update',
      'playback_update',
      'chat',
      'chat',
    ]);
    expect(client.lastSeq).toBe(4);
  });

  it('takes the session seq on joining, and keeps its own on a resume', () => {
    const client = makeClient();
    const got: string[] = [];
    client.onMessage((m) => m.type === 'chat' && got.push(m.message));
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1', 'session_joined', 40));
    expect(client.lastSeq).toBe(40);
    latest().deliver({ type: 'chat', user_id: 'u', username: 'U', message: 'a', seq: 41 });
    latest().drop();
    vi.advanceTimersByTime(1000);
    latest().accept();
    expect(latest().messages()).toEqual([{ type: 'resume', token: 'tok-1', last_seq: 41 }]);
    // The resume reply names the latest seq (44); the replay of 42..44 that follows must pass.
    latest().deliver(joined('tok-2', 'session_resumed', 44));
    latest().deliver({ type: 'chat', user_id: 'u', username: 'U', message: 'b', seq: 42 });
    latest().deliver({ type: 'chat', user_id: 'u', username: 'U', message: 'c', seq: 44 });
    latest().deliver({ type: 'chat', user_id: 'u', username: 'U', message: 'c', seq: 44 });
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('stores a refreshed token', () => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1'));
    latest().deliver({ type: 'token_refreshed', resume_token: 'tok-9' });
    expect(store.data.get('familiar:resume:ABC123')).toBe('tok-9');
  });

  it('retries a throttled resume after the delay the relay names', () => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1'));
    latest().drop();
    vi.advanceTimersByTime(1000);
    latest().accept();
    latest().deliver({ type: 'error', code: 'join_throttled', message: 'x', retry_after_ms: 5000 });
    vi.advanceTimersByTime(4999);
    expect(latest().messages()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(latest().messages()).toHaveLength(2);
  });

  it.each(['session_not_found', 'kicked'] as const)('gives up a resume refused with %s', (code) => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1'));
    latest().drop();
    vi.advanceTimersByTime(1000);
    latest().accept();
    latest().deliver({ type: 'error', code, message: 'x' });
    latest().drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(store.data.size).toBe(0);
  });

  it('does not come back after being kicked', () => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined());
    latest().deliver({ type: 'user_kicked', user_id: 'me', reason: 'host_kicked' });
    latest().close(1000, 'kicked');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(store.data.size).toBe(0);
    expect(client.getStatus().state).toBe('closed');
  });

  it('stops when the host ends the session', () => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined());
    latest().deliver({ type: 'user_left', user_id: 'h', participant_count: 1, reason: 'host_left' });
    latest().drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('does not repeat a join the relay refused', () => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver({ type: 'error', code: 'invalid_password', message: 'Invalid session password' });
    latest().drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    // A second attempt by the person goes through on a new socket.
    client.start({ ...joinIntent, password: 'right' });
    latest().accept();
    expect(latest().messages()).toEqual([sentFor({ ...joinIntent, password: 'right' })]);
  });

  it('leaves and closes on disconnect, without reconnecting', () => {
    const client = makeClient();
    client.start(joinIntent);
    const socket = latest();
    socket.accept();
    socket.deliver(joined());
    client.disconnect();
    expect(socket.messages().at(-1)).toEqual({ type: 'leave' });
    expect(socket.readyState).toBe(3);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.getStatus().state).toBe('idle');
  });

  it('refuses to send while the socket is down and ignores junk frames', () => {
    const client = makeClient();
    const got: unknown[] = [];
    client.onMessage((m) => got.push(m));
    client.connect();
    expect(client.send({ type: 'chat', message: 'early' })).toBe(false);
    latest().accept();
    latest().onmessage?.({ data: 'not json' });
    latest().onmessage?.({ data: '[1,2]' });
    latest().onmessage?.({ data: new ArrayBuffer(2) });
    expect(got).toEqual([]);
    expect(client.send({ type: 'chat', message: 'now' })).toBe(true);
    // Without a session to be in, a dropped warm-up socket is not chased.
    latest().drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.getStatus().state).toBe('closed');
  });

  it('notifies status subscribers only on change', () => {
    const client = makeClient();
    const states: string[] = [];
    client.subscribe(() => states.push(client.getStatus().state));
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined());
    expect(states).toEqual(['connecting', 'open', 'open']);
  });
});

describe('SessionClient.retryNow', () => {
  it('skips the remaining backoff delay', () => {
    const client = makeClient(1);
    client.start(joinIntent);
    latest().drop();
    expect(FakeSocket.all).toHaveLength(1);
    client.retryNow();
    expect(FakeSocket.all).toHaveLength(2);
    latest().accept();
    expect(latest().messages()).toEqual([sentFor(joinIntent)]);
  });
});
