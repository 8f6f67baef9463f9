// The relay protocol client: one WebSocket to /api/v1/sessions/ws with typed send/receive,
// reconnection (exponential backoff with jitter, or the relay's own `server_restarting` delay),
// session resume with the per-tab `resume_token`, and de-duplication of replayed chat and
// reactions by `seq`. Plain TypeScript with no React, so both pages and the unit tests share it;
// `useSessionClient` wraps it for components.

import { errorRule } from './errors';
import type { ClientMessage, ErrorCode, ServerMessage } from './wire';

/** The part of the browser WebSocket the client uses; tests inject a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Where the resume token lives: sessionStorage in the browser, so each tab resumes itself. */
export type TokenStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** What the client is trying to be in: re-sent after a reconnect whose resume failed. */
export type Intent = Extract<ClientMessage, { type: 'create' | 'join' | 'join_guest' }>;

export type ConnectionState =
  /** Never connected, or disconnected on purpose. */
  | 'idle'
  | 'connecting'
  | 'open'
  /** The socket is down and a reconnect is scheduled. */
  | 'waiting'
  /** The socket is down and nothing needs it back (no session to be in). */
  | 'closed';

export interface ClientStatus {
  state: ConnectionState;
  /** Connection attempts in a row that never opened: the UI calls the relay unreachable. */
  failures: number;
  /** When the next attempt starts (epoch ms), while `waiting`. */
  retryAt: number | null;
  /** The relay said it is restarting and we are not back in the session yet. */
  restarting: boolean;
  /** A session is established on the current socket. */
  inSession: boolean;
}

export interface ClientOptions {
  url: string;
  /** Key of the resume token in `storage`; pages scope it (per session code, or the host). */
  tokenKey: string;
  storage?: TokenStore | null;
  createSocket?: (url: string) => SocketLike;
  /** Source of jitter; injectable so tests are deterministic. */
  random?: () => number;
  /** First reconnect delay before jitter; doubles per failed attempt. */
  backoffBaseMs?: number;
  /** Ceiling of the doubling. */
  backoffMaxMs?: number;
  /** Extra random delay after `server_restarting.retry_after_ms`, so clients don't stampede. */
  restartJitterMs?: number;
  /** Delay before asking again when the relay says the host has not come back yet. */
  hostNotBackRetryMs?: number;
}

const SOCKET_OPEN = 1;

type Phase = 'none' | 'joining' | 'resuming' | 'joined';

function defaultStorage(): TokenStore | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    // Some privacy modes throw on access; the client then simply cannot resume after a reload.
    return null;
  }
}

export class SessionClient {
  readonly #opts: Required<Omit<ClientOptions, 'storage'>> & { storage: TokenStore | null };
  #socket: SocketLike | null = null;
  #wanted = false;
  #intent: Intent | null = null;
  #phase: Phase = 'none';
  #attempts = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #resumeTimer: ReturnType<typeof setTimeout> | null = null;
  #restartDelay: number | null = null;
  #seq: number | null = null;
  #userId: string | null = null;
  /** The token also lives here, for browsers whose storage is unavailable. */
  #token: string | null = null;
  #status: ClientStatus = {
    state: 'idle',
    failures: 0,
    retryAt: null,
    restarting: false,
    inSession: false,
  };
  readonly #messageListeners = new Set<(msg: ServerMessage) => void>();
  readonly #statusListeners = new Set<() => void>();

  constructor(options: ClientOptions) {
    this.#opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      random: Math.random,
      backoffBaseMs: 500,
      backoffMaxMs: 15_000,
      restartJitterMs: 1_000,
      hostNotBackRetryMs: 2_000,
      ...options,
      storage: options.storage === undefined ? defaultStorage() : options.storage,
    };
  }

  /** Opens the socket early (before any join) so the first request does not wait for it. */
  connect(): void {
    this.#wanted = true;
    if (!this.#socket && !this.#reconnectTimer) this.#open();
  }

  /**
   * Joins or creates, and keeps doing so across reconnects: resumes with the stored token when
   * there is one (also after a page reload in this tab), otherwise sends `intent`.
   */
  start(intent: Intent): void {
    this.#intent = intent;
    this.#wanted = true;
    if (this.#socket && this.#socket.readyState === SOCKET_OPEN) {
      this.#establish();
    } else if (!this.#socket) {
      // A person asked: try now rather than at the end of a backoff delay.
      this.#attempts = 0;
      this.#open();
    }
  }

  /** Skips the rest of a backoff delay (the person pressed "Try again"). */
  retryNow(): void {
    if (!this.#reconnectTimer) return;
    this.#attempts = 0;
    this.#open();
  }

  /** Leaves the session on purpose: the token is dropped so nothing resumes it. */
  leave(): void {
    if (this.#phase !== 'none') this.send({ type: 'leave' });
    this.#forgetSession();
  }

  /** Closes for good (component unmount): leaves a session first so others hear of it at once. */
  disconnect(): void {
    this.leave();
    this.#wanted = false;
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) socket.close(1000, 'bye');
    this.#setStatus({ state: 'idle', retryAt: null, inSession: false, restarting: false });
  }

  /** Sends when the socket is open; returns false (and drops the message) otherwise. */
  send(msg: ClientMessage): boolean {
    if (!this.#socket || this.#socket.readyState !== SOCKET_OPEN) return false;
    this.#socket.send(JSON.stringify(msg));
    return true;
  }

  onMessage(listener: (msg: ServerMessage) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  /** For useSyncExternalStore: `getStatus` returns a new object only when something changed. */
  subscribe = (listener: () => void): (() => void) => {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  };

  getStatus = (): ClientStatus => this.#status;

  /** The highest `seq` seen in this session, as sent in `resume`. */
  get lastSeq(): number | null {
    return this.#seq;
  }

  #open(): void {
    this.#clearTimers();
    this.#setStatus({ state: 'connecting', retryAt: null });
    let socket: SocketLike;
    try {
      socket = this.#opts.createSocket(this.#opts.url);
    } catch {
      this.#socketGone(false);
      return;
    }
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      opened = true;
      this.#setStatus({ state: 'open', failures: 0 });
      this.#establish();
    };
    socket.onmessage = (ev) => {
      if (this.#socket === socket) this.#receive(ev.data);
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#socketGone(opened);
    };
    // A failed connection also fires `close`, which is where it is handled.
    socket.onerror = () => {};
  }

  /** On a fresh socket: resume if this tab holds a token, else send the intent. */
  #establish(): void {
    if (!this.#intent) {
      this.#phase = 'none';
      return;
    }
    const token = this.#readToken();
    if (token) {
      this.#phase = 'resuming';
      // Without a seq (a reloaded page) the relay replays nothing and just puts us back.
      this.send(this.#seq === null ? { type: 'resume', token } : { type: 'resume', token, last_seq: this.#seq });
    } else {
      this.#phase = 'joining';
      // This client resumes after a dropped socket, so it asks for the grace period; clients
      // that say nothing (the Familiar app, older pages) depart at once when their socket drops.
      this.send({ ...this.#intent, capabilities: ['resume'] });
    }
  }

  #socketGone(opened: boolean): void {
    this.#phase = 'none';
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    this.#resumeTimer = null;
    const failures = opened ? 0 : this.#status.failures + 1;
    if (!this.#wanted || !this.#intent) {
      this.#setStatus({ state: 'closed', failures, retryAt: null, inSession: false });
      return;
    }
    const delay = this.#restartDelay ?? this.#backoffDelay();
    this.#restartDelay = null;
    this.#attempts += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#open();
    }, delay);
    this.#setStatus({ state: 'waiting', failures, retryAt: Date.now() + delay, inSession: false });
  }

  /** Exponential backoff with "equal jitter": half the step is fixed, half is random. */
  #backoffDelay(): number {
    const step = Math.min(this.#opts.backoffMaxMs, this.#opts.backoffBaseMs * 2 ** this.#attempts);
    return Math.round(step / 2 + this.#opts.random() * (step / 2));
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    if (this.#isReplay(msg)) return;
    this.#track(msg);
    for (const listener of [...this.#messageListeners]) listener(msg);
  }

  /** Tracks the highest `seq`; chat and reactions at or below it were already shown. */
  #isReplay(msg: ServerMessage): boolean {
    if (!('seq' in msg) || typeof msg.seq !== 'number') return false;
    const seen = this.#seq !== null && msg.seq <= this.#seq;
    if (!seen) this.#seq = msg.seq;
    // A replayed playback update is harmless (it carries full state), so only these are dropped.
    return seen && (msg.type === 'chat' || msg.type === 'user_reaction');
  }

  /** The client's own bookkeeping, before any page sees the message. */
  #track(msg: ServerMessage): void {
    switch (msg.type) {
      case 'session_created':
      case 'session_joined':
      case 'session_resumed':
        // A newcomer has seen everything up to the session's seq. A resume keeps ours: what we
        // missed is replayed after this message and must not look already seen.
        if (msg.type !== 'session_resumed' || this.#seq === null) this.#seq = msg.session.seq;
        this.#phase = 'joined';
        this.#userId = msg.your_user_id;
        this.#attempts = 0;
        this.#writeToken(msg.resume_token);
        this.#setStatus({ inSession: true, restarting: false });
        break;
      case 'token_refreshed':
        this.#writeToken(msg.resume_token);
        break;
      case 'error':
        this.#trackError(msg.code, msg.retry_after_ms);
        break;
      case 'server_restarting':
        this.#restartDelay = msg.retry_after_ms + this.#opts.random() * this.#opts.restartJitterMs;
        this.#setStatus({ restarting: true });
        break;
      case 'user_kicked':
        if (this.#userId === null || msg.user_id === this.#userId) this.#forgetSession();
        break;
      case 'user_left':
        if (msg.reason === 'host_left') this.#forgetSession();
        break;
      case 'session_ended':
      case 'left':
        this.#forgetSession();
        break;
      default:
        break;
    }
  }

  /** What each error means for the client is in `errors.ts`; this carries it out. */
  #trackError(code: ErrorCode, retryAfterMs: number | undefined): void {
    const rule = errorRule(code);
    if (this.#phase === 'resuming' && rule.onResume === 'retry') {
      // Ask again shortly on the same socket.
      const socket = this.#socket;
      this.#resumeTimer = setTimeout(() => {
        this.#resumeTimer = null;
        if (this.#socket === socket && this.#phase === 'resuming') this.#establish();
      }, retryAfterMs ?? this.#opts.hostNotBackRetryMs);
    } else if (this.#phase === 'resuming' && rule.onResume === 'rejoin') {
      this.#clearToken();
      this.#establish();
    } else if ((this.#phase === 'joining' || this.#phase === 'resuming') && rule.refuses) {
      // The page shows why; repeating the request on every reconnect would not help.
      this.#forgetSession();
    }
  }

  #forgetSession(): void {
    this.#intent = null;
    this.#phase = 'none';
    this.#seq = null;
    this.#clearToken();
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    this.#resumeTimer = null;
    this.#setStatus({ inSession: false, restarting: false });
  }

  #clearTimers(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    this.#reconnectTimer = null;
    this.#resumeTimer = null;
  }

  #readToken(): string | null {
    try {
      return this.#opts.storage?.getItem(this.#opts.tokenKey) ?? this.#token;
    } catch {
      return this.#token;
    }
  }

  #writeToken(token: string): void {
    this.#token = token;
    try {
      this.#opts.storage?.setItem(this.#opts.tokenKey, token);
    } catch {
      // Storage full or denied: the in-memory copy still resumes while this page lives.
    }
  }

  #clearToken(): void {
    this.#token = null;
    try {
      this.#opts.storage?.removeItem(this.#opts.tokenKey);
    } catch {
      // A token we cannot remove is one we could not read either.
    }
  }

  #setStatus(patch: Partial<ClientStatus>): void {
    const next = { ...this.#status, ...patch };
    const changed = (Object.keys(next) as (keyof ClientStatus)[]).some(
      (k) => next[k] !== this.#status[k],
    );
    if (!changed) return;
    this.#status = next;
    for (const listener of [...this.#statusListeners]) listener();
  }
}
