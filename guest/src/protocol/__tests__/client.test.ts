// Unit tests of the protocol client against a fake WebSocket: joining, resume after a drop,
// backoff timing, the relay's restart delay and jitter window, when it must not retry (a refusal,
// a warm-up socket closed by the handshake window), and chat and reactions exactly once: ids,
// the outbox re-sent after a resume, history handed back to a restarted relay, repeats dropped.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, sessionView } from '../../__tests__/relayFakes';
import { SessionClient, type TokenStore } from '../client';
import type { ClientMessage, ServerMessage } from '../wire';

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
    expect(client.send({ type: 'sync_request' })).toBe(false);
    latest().accept();
    latest().onmessage?.({ data: 'not json' });
    latest().onmessage?.({ data: '[1,2]' });
    latest().onmessage?.({ data: new ArrayBuffer(2) });
    expect(got).toEqual([]);
    expect(client.send({ type: 'sync_request' })).toBe(true);
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

/** Joined as `me` on a fresh socket, with the relay's welcome at `seq`. */
function joinedClient(seq = 0) {
  const client = makeClient();
  const got: ServerMessage[] = [];
  client.onMessage((m) => got.push(m));
  client.start(joinIntent);
  latest().accept();
  latest().deliver(joined('tok-1', 'session_joined', seq));
  return { client, got };
}

/** The socket drops and the client resumes on a new one; `history_after` if the relay restarted. */
function dropAndResume(historyAfter?: number) {
  latest().drop();
  vi.advanceTimersByTime(60_000);
  latest().accept();
  const welcome = joined('tok-2', 'session_resumed', 1_000_000);
  latest().deliver(historyAfter === undefined ? welcome : { ...welcome, history_after: historyAfter });
}

/** A sealed chat frame as the relay broadcasts it (`mac` last). */
function chatFrame(seq: number, fields: { user_id?: string; message?: string; id?: string; mac?: string | null } = {}) {
  const { user_id = 'u', message = `m${seq}`, id, mac = `seal${seq}` } = fields;
  return {
    type: 'chat',
    user_id,
    username: user_id.toUpperCase(),
    message,
    seq,
    ...(id === undefined ? {} : { id }),
    ...(mac === null ? {} : { mac }),
  };
}

/** Our own echo of what `sent` was (a chat or reaction we sent), at `seq`. */
function echoOf(sent: ClientMessage | undefined, seq: number) {
  if (sent?.type === 'chat') return chatFrame(seq, { user_id: 'me', message: sent.message, ...(sent.id ? { id: sent.id } : {}) });
  if (sent?.type === 'reaction') {
    return { type: 'user_reaction', user_id: 'me', username: 'ME', kind: sent.kind, timestamp: 1, seq, id: sent.id, mac: `seal${seq}` };
  }
  throw new Error('not a chat or reaction');
}

/** Says each of `texts` and returns the chat messages as they went out. */
function sayAll(client: SessionClient, texts: string[]) {
  for (const text of texts) expect(client.chat(text)).toBe(true);
  return latest().of('chat').slice(-texts.length);
}

/** The chat and reactions a socket carried, as [text or kind, id]. */
function said(socket: FakeSocket) {
  return socket
    .messages()
    .flatMap((m) => (m.type === 'chat' ? [[m.message, m.id]] : m.type === 'reaction' ? [[m.kind, m.id]] : []));
}

describe('SessionClient: message ids', () => {
  it('gives every chat and reaction its own random id', () => {
    const { client } = joinedClient();
    expect(client.chat('same')).toBe(true);
    expect(client.chat('same')).toBe(true);
    expect(client.react('cheer')).toBe(true);
    const ids = said(latest()).map(([, id]) => id);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it('says nothing outside the session, so the composer keeps the text', () => {
    const client = makeClient();
    client.connect();
    latest().accept();
    expect(client.chat('too early')).toBe(false);
    client.start(joinIntent);
    // The join is out but not answered yet.
    expect(client.react('wave')).toBe(false);
    latest().deliver(joined());
    latest().drop();
    expect(client.chat('while down')).toBe(false);
    expect(said(FakeSocket.all[0]!)).toEqual([]);
  });
});

describe('SessionClient: outbox', () => {
  it('re-sends after a resume, in order and with the same ids, what was not echoed', () => {
    const { client } = joinedClient();
    const first = latest();
    const c = sayAll(client, ['a', 'b', 'c']);
    // Only "a" came back before the drop.
    first.deliver(echoOf(c[0], 1));
    dropAndResume();
    expect(said(latest())).toEqual([
      ['b', c[1]?.id],
      ['c', c[2]?.id],
    ]);
    // Their echoes settle them: the next resume has nothing to send.
    latest().deliver(echoOf(c[1], 2));
    latest().deliver(echoOf(c[2], 3));
    dropAndResume();
    expect(said(latest())).toEqual([]);
  });

  it('keeps and settles a reaction as it does a chat', () => {
    const { client } = joinedClient();
    client.react('wave');
    const sent = latest().of('reaction')[0];
    dropAndResume();
    expect(latest().of('reaction')).toEqual([sent]);
    latest().deliver(echoOf(sent, 4));
    dropAndResume();
    expect(latest().of('reaction')).toEqual([]);
  });

  it('drops what a later echo on the same socket shows the relay refused', () => {
    const { client } = joinedClient();
    const c = sayAll(client, ['a', 'b']);
    // The relay answered "a" with rate_limited (no echo), then echoed "b".
    latest().deliver({ type: 'error', code: 'rate_limited', message: 'slow down', retry_after_ms: 500 });
    latest().deliver(echoOf(c[1], 2));
    dropAndResume();
    expect(said(latest())).toEqual([]);
  });

  it('an echo that came in the replay settles that entry alone', () => {
    const { client } = joinedClient();
    const c = sayAll(client, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    dropAndResume();
    // Five go out at once; "f" and "g" wait their turn. The replay then brings "g" from before.
    expect(said(latest()).map(([text]) => text)).toEqual(['a', 'b', 'c', 'd', 'e']);
    latest().deliver(echoOf(c[6], 7));
    vi.advanceTimersByTime(60_000);
    expect(said(latest()).map(([text]) => text)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    dropAndResume();
    vi.advanceTimersByTime(60_000);
    expect(said(latest()).map(([text]) => text)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('paces a long re-send inside the relay chat allowance, and what is typed meanwhile follows it', () => {
    const { client } = joinedClient();
    const texts = Array.from({ length: 12 }, (_, i) => `t${i}`);
    for (const t of texts) client.chat(t);
    dropAndResume();
    expect(said(latest())).toHaveLength(5);
    vi.advanceTimersByTime(499);
    expect(said(latest())).toHaveLength(5);
    vi.advanceTimersByTime(1);
    expect(said(latest())).toHaveLength(6);
    expect(client.chat('new')).toBe(true);
    vi.advanceTimersByTime(500 * 7);
    expect(said(latest()).map(([text]) => text)).toEqual([...texts, 'new']);
  });

  it('keeps at most the 50 newest', () => {
    const { client } = joinedClient();
    for (let i = 0; i < 55; i++) client.chat(`t${i}`);
    dropAndResume();
    vi.advanceTimersByTime(60_000);
    expect(said(latest()).map(([text]) => text)).toEqual(Array.from({ length: 50 }, (_, i) => `t${i + 5}`));
  });

  it('gives up an entry re-sent three times without an echo', () => {
    const { client } = joinedClient();
    client.chat('refused every time');
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      dropAndResume();
      counts.push(said(latest()).length);
    }
    expect(counts).toEqual([1, 1, 1, 0]);
  });

  it('re-sends nothing of a session it left, nor of a membership lost with its token', () => {
    const { client } = joinedClient();
    client.chat('before leaving');
    latest().deliver({ type: 'left' });
    client.start(joinIntent);
    latest().deliver(joined('tok-5'));
    client.chat('in the new membership');
    // The resume fails (grace period over): the client joins afresh, under a new user id.
    latest().drop();
    vi.advanceTimersByTime(60_000);
    latest().accept();
    latest().deliver({ type: 'error', code: 'invalid_token', message: 'x' });
    latest().deliver(joined('tok-6'));
    dropAndResume();
    expect(said(latest())).toEqual([]);
  });
});

describe('SessionClient: history for a restarted relay', () => {
  it('hands back the sealed frames above history_after, oldest first, byte for byte', () => {
    joinedClient();
    // Exactly as the relay framed them, odd spacing and escapes included.
    const raw = [5, 6, 7, 8].map(
      (seq) => `{"type":"chat","user_id":"u","username":"U","message":"caf\\u00e9 ${seq} ✓","seq":${seq},"mac":"s${seq}"}`,
    );
    for (const text of raw) latest().deliverText(text);
    latest().deliver(chatFrame(9, { mac: null }));
    latest().deliver({ type: 'playback_update', track_id: 't', is_playing: true, position_ms: 0, seq: 10 });
    latest().deliver({ type: 'user_reaction', user_id: 'u', username: 'U', kind: 'wave', timestamp: 2, seq: 11, mac: 's11' });
    dropAndResume(6);
    const history = latest().of('history');
    expect(history).toHaveLength(1);
    expect(history[0]?.entries).toEqual([
      raw[2],
      raw[3],
      JSON.stringify({ type: 'user_reaction', user_id: 'u', username: 'U', kind: 'wave', timestamp: 2, seq: 11, mac: 's11' }),
    ]);
  });

  it('sends no history unless the relay asks', () => {
    joinedClient();
    latest().deliver(chatFrame(5));
    dropAndResume();
    expect(latest().of('history')).toEqual([]);
  });

  it('hands back before re-sending, so a copy someone else handed back is known by its id', () => {
    const { client } = joinedClient();
    client.chat('mine');
    latest().deliver(chatFrame(5));
    dropAndResume(0);
    expect(latest().messages().map((m) => m.type)).toEqual(['resume', 'history', 'chat']);
  });

  it('slots a frame handed back late in by its seq', () => {
    joinedClient();
    latest().deliver(chatFrame(10));
    latest().deliver(chatFrame(12));
    latest().deliver(chatFrame(11));
    dropAndResume(0);
    expect(latest().of('history')[0]?.entries.map((e) => (JSON.parse(e) as { seq: number }).seq)).toEqual([10, 11, 12]);
  });

  it('holds the last 200 frames', () => {
    joinedClient();
    for (let seq = 1; seq <= 250; seq++) latest().deliver(chatFrame(seq));
    dropAndResume(0);
    const seqs = latest().of('history')[0]?.entries.map((e) => (JSON.parse(e) as { seq: number }).seq);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 51));
  });

  it('keeps the history frame under 48 KiB, dropping the oldest', () => {
    joinedClient();
    // 200 chats of 500 characters, quotes and non-ASCII included: about 110 KiB in all.
    for (let seq = 1; seq <= 200; seq++) latest().deliver(chatFrame(seq, { message: `"é${'x'.repeat(498)}` }));
    dropAndResume(0);
    const frame = latest().sent.find((s) => s.startsWith('{"type":"history"'));
    if (!frame) throw new Error('no history sent');
    const bytes = new TextEncoder().encode(frame).length;
    expect(bytes).toBeLessThanOrEqual(48 * 1024);
    expect(bytes).toBeGreaterThan(46 * 1024);
    const seqs = (JSON.parse(frame) as { entries: string[] }).entries.map((e) => (JSON.parse(e) as { seq: number }).seq);
    expect(seqs.at(-1)).toBe(200);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 201 - seqs.length + i));
  });

  it('holds nothing from a session it left', () => {
    const { client } = joinedClient();
    latest().deliver(chatFrame(5));
    client.leave();
    client.start(joinIntent);
    latest().deliver(joined('tok-7'));
    dropAndResume(0);
    expect(latest().of('history')[0]?.entries).toEqual([]);
  });
});

describe('SessionClient: repeats', () => {
  it('passes a late older chat, and drops repeats by seq or by sender and id', () => {
    const { client, got } = joinedClient();
    latest().deliver(chatFrame(10));
    latest().deliver(chatFrame(12));
    // Handed back after a restart: older than what came, never seen.
    latest().deliver(chatFrame(11));
    latest().deliver(chatFrame(12));
    latest().deliver(chatFrame(13, { id: 'abc' }));
    // The same chat broadcast again under a new seq (its sender re-sent it to a relay that
    // did not know it yet): a repeat by id.
    latest().deliver(chatFrame(20, { id: 'abc' }));
    // Another member's id that happens to be the same is another chat.
    latest().deliver(chatFrame(21, { user_id: 'v', id: 'abc' }));
    expect(got.flatMap((m) => (m.type === 'chat' ? [m.seq] : []))).toEqual([10, 12, 11, 13, 21]);
    expect(client.lastSeq).toBe(21);
  });

  it('drops the relay handing our re-sent chat back a second time', () => {
    const { client, got } = joinedClient();
    client.chat('once');
    const sent = latest().of('chat')[0];
    dropAndResume();
    // The replay brings it, and the relay answers our re-send with the frame it holds.
    latest().deliver(echoOf(sent, 3));
    latest().deliver(echoOf(sent, 3));
    expect(got.filter((m) => m.type === 'chat')).toHaveLength(1);
  });
});

describe('SessionClient: restarts and the handshake window', () => {
  it('spreads its return over the retry_jitter_ms the relay names', () => {
    const client = makeClient(0.25);
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined());
    latest().deliver({ type: 'server_restarting', retry_after_ms: 250, retry_jitter_ms: 4000 });
    latest().close(1012, 'restart');
    // 250 + 0.25 × 4000.
    vi.advanceTimersByTime(1249);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    expect(client.getStatus().state).toBe('connecting');
  });

  it('asks again after host_not_back when the relay says', () => {
    const client = makeClient();
    client.start(joinIntent);
    latest().accept();
    latest().deliver(joined('tok-1'));
    latest().drop();
    vi.advanceTimersByTime(1000);
    latest().accept();
    latest().deliver({ type: 'error', code: 'host_not_back', message: 'x', retry_after_ms: 250 });
    vi.advanceTimersByTime(249);
    expect(latest().of('resume')).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(latest().of('resume')).toHaveLength(2);
  });

  it('a warm-up socket told of a restart waits for the relay before the join goes out', () => {
    const client = makeClient(0.5);
    client.connect();
    latest().accept();
    latest().deliver({ type: 'server_restarting', retry_after_ms: 1000, retry_jitter_ms: 1000 });
    latest().close(1012, 'restart');
    vi.advanceTimersByTime(600);
    expect(client.getStatus().state).toBe('closed');
    // The person presses Join before the relay is back (1500 ms after the notice).
    client.start(joinIntent);
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.getStatus().state).toBe('waiting');
    vi.advanceTimersByTime(899);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    latest().accept();
    expect(latest().messages()).toEqual([sentFor(joinIntent)]);
  });

  it('does not chase a warm-up socket closed after the handshake window; a join opens a fresh one', () => {
    const client = makeClient();
    client.connect();
    latest().accept();
    latest().close(4008, 'handshake timeout');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.getStatus()).toMatchObject({ state: 'closed', failures: 0 });
    client.start(joinIntent);
    expect(FakeSocket.all).toHaveLength(2);
    latest().accept();
    expect(latest().messages()).toEqual([sentFor(joinIntent)]);
  });

  it('with a session to be in, comes back after a 4008 close as after any drop', () => {
    store.data.set('familiar:resume:ABC123', 'tok-old');
    const client = makeClient(0);
    client.start(joinIntent);
    latest().accept();
    latest().close(4008, 'handshake timeout');
    expect(client.getStatus().state).toBe('waiting');
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(2);
    latest().accept();
    expect(latest().messages()).toEqual([{ type: 'resume', token: 'tok-old' }]);
  });
});
