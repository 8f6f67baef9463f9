// The relay protocol client: one WebSocket to /api/v1/sessions/ws with typed send/receive,
// reconnection (exponential backoff with jitter, or the relay's own `server_restarting` delay),
// session resume with the per-tab `resume_token`, and chat and reactions exactly once: each
// sent with its own id and re-sent after a resume until echoed, repeats dropped, and the frames
// received handed back to a restarted relay that asks (the structures are in `exactlyOnce.ts`).
// Plain TypeScript with no React, so both pages and the unit tests share it; `useSessionClient`
// wraps it for components.

import { errorRule } from './errors';
import {
  HeldFrames,
  isRoomFrame,
  newMessageId,
  Outbox,
  RepeatFilter,
  type Pending,
  type RoomFrame,
  type RoomMessage,
} from './exactlyOnce';
import type { ClientMessage, ErrorCode, ReactionKind, ServerMessage } from './wire';

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

/**
 * What pages send with `send`. Chat and reactions go through `chat` / `react`, which give them
 * an id and keep them until echoed; `history` is the client's own answer to a restarted relay.
 */
export type DirectMessage = Exclude<ClientMessage, { type: 'chat' | 'reaction' | 'history' }>;

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
  /** Extra random delay after `server_restarting.retry_after_ms`, so clients don't stampede,
   * when the relay names no window of its own (`retry_jitter_ms`). */
  restartJitterMs?: number;
  /** Delay before asking again when the relay says the host has not come back yet and names
   * no `retry_after_ms`. */
  hostNotBackRetryMs?: number;
}

const SOCKET_OPEN = 1;

/** Chat and reactions sent and not yet echoed, kept for a re-send; far more than one types
 * before a dropped socket is noticed. */
const OUTBOX_CAPACITY = 50;
/** An entry re-sent after this many resumes without an echo is one the relay keeps refusing. */
const MAX_RESENDS = 3;
/** Chat and reaction frames held to hand back after a restart: as many as the relay keeps. */
const HELD_FRAMES = 200;
/** The `history` message stays this far under the relay's 64 KiB frame limit. */
const HISTORY_MAX_BYTES = 48 * 1024;
/** Seqs and ids remembered to recognise repeats: well beyond what the relay replays (200). */
const REPEAT_MEMORY = 1000;
/** Re-sends go out this many at once, then one per interval: inside the relay's chat allowance
 * (a burst of 10, then 2/s), with room left for what the person types meanwhile. */
const RESEND_BURST = 5;
const RESEND_INTERVAL_MS = 500;

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
  #resendTimer: ReturnType<typeof setTimeout> | null = null;
  /** When a restarting relay said to come back (epoch ms, jitter included). */
  #restartAt: number | null = null;
  /** The highest `seq` seen: what `resume` says this client holds. */
  #seq: number | null = null;
  readonly #repeats = new RepeatFilter(REPEAT_MEMORY);
  readonly #outbox = new Outbox(OUTBOX_CAPACITY, MAX_RESENDS);
  readonly #held = new HeldFrames(HELD_FRAMES);
  /** Outbox entries waiting for their paced re-send after a resume, oldest first. */
  #resendQueue: Pending[] = [];
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
    if (!this.#socket && !this.#reconnectTimer) this.#openWhenBack();
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
      // A person asked: try now rather than at the end of a backoff delay (but not before a
      // restarting relay said it would be back).
      this.#attempts = 0;
      this.#openWhenBack();
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
  send(msg: DirectMessage): boolean {
    return this.#write(msg);
  }

  /**
   * Says `message` in the room. False unless in the session (the composer keeps the text);
   * once true it reaches the room exactly once, across dropped sockets and relay restarts.
   */
  chat(message: string): boolean {
    return this.#say({ type: 'chat', message, id: newMessageId() });
  }

  /** Sends a reaction, as `chat` does. */
  react(kind: ReactionKind): boolean {
    return this.#say({ type: 'reaction', kind, id: newMessageId() });
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

  #write(msg: ClientMessage): boolean {
    if (!this.#socket || this.#socket.readyState !== SOCKET_OPEN) return false;
    this.#socket.send(JSON.stringify(msg));
    return true;
  }

  /** Kept in the outbox until its echo arrives, so a resume can send it again (same id). */
  #say(msg: RoomMessage & { id: string }): boolean {
    const socket = this.#socket;
    if (this.#phase !== 'joined' || !socket || socket.readyState !== SOCKET_OPEN) return false;
    if (this.#resendQueue.length > 0) {
      // Behind the re-sends still going out, so the room hears them in the order they were said.
      this.#resendQueue.push(this.#outbox.add(msg, null));
      return true;
    }
    this.#outbox.add(msg, socket);
    socket.send(JSON.stringify(msg));
    return true;
  }

  /** Opens now, or when a restarting relay said it would be back if that is still ahead. */
  #openWhenBack(): void {
    const wait = this.#restartAt === null ? 0 : Math.round(this.#restartAt - Date.now());
    this.#restartAt = null;
    if (wait > 0) this.#scheduleOpen(wait, this.#status.failures);
    else this.#open();
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
      // Whatever restart was announced is over: this relay accepts sockets.
      this.#restartAt = null;
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
    // Unsent re-sends stay in the outbox for the next resume.
    this.#stopResends();
    const failures = opened ? 0 : this.#status.failures + 1;
    if (!this.#wanted || !this.#intent) {
      // Nothing to be in: a warm-up socket the relay closed (after its handshake window, 4008,
      // or for a restart) is not chased; `start` opens a fresh one when the page needs it.
      this.#setStatus({ state: 'closed', failures, retryAt: null, inSession: false });
      return;
    }
    const delay =
      this.#restartAt === null ? this.#backoffDelay() : Math.max(0, Math.round(this.#restartAt - Date.now()));
    this.#restartAt = null;
    this.#attempts += 1;
    this.#scheduleOpen(delay, failures);
  }

  #scheduleOpen(delay: number, failures: number): void {
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
    // Counted even for a repeat: a copy re-broadcast under a new seq was still heard.
    if ('seq' in msg && typeof msg.seq === 'number') this.#seq = Math.max(this.#seq ?? msg.seq, msg.seq);
    // A replayed playback update is harmless (it carries full state), so only these are dropped.
    if (isRoomFrame(msg) && !this.#takeRoomFrame(msg, data)) return;
    this.#track(msg);
    for (const listener of [...this.#messageListeners]) listener(msg);
  }

  /** False for a repeat. Otherwise settles our own echo and keeps the frame for `history`. */
  #takeRoomFrame(frame: RoomFrame, text: string): boolean {
    if (this.#repeats.isRepeat(frame)) return false;
    if (typeof frame.id === 'string' && frame.user_id === this.#userId) this.#outbox.settle(frame.id, this.#socket);
    // Only a sealed frame can be handed back: the relay refuses the rest.
    if (typeof frame.seq === 'number' && typeof frame.mac === 'string') this.#held.keep(frame.seq, text);
    return true;
  }

  /** After `session_resumed`: hand back what a restarted relay asked for, then re-send the
   * outbox (in that order, so a copy someone else handed back is recognised by its id). */
  #catchUp(historyAfter: number | undefined): void {
    if (typeof historyAfter === 'number') this.#write(this.#held.historyAfter(historyAfter, HISTORY_MAX_BYTES));
    this.#stopResends();
    this.#resendQueue = this.#outbox.takeForResend();
    this.#sendResends(RESEND_BURST);
  }

  /** Sends up to `count` queued re-sends, and schedules the rest one per interval. */
  #sendResends(count: number): void {
    this.#resendTimer = null;
    const socket = this.#socket;
    if (this.#phase !== 'joined' || !socket || socket.readyState !== SOCKET_OPEN) {
      this.#resendQueue = [];
      return;
    }
    let sent = 0;
    while (sent < count) {
      const entry = this.#resendQueue.shift();
      if (!entry) break;
      // Its echo may have come in the relay's replay while it waited.
      if (!this.#outbox.holds(entry)) continue;
      entry.sentOn = socket;
      socket.send(JSON.stringify(entry.msg));
      sent += 1;
    }
    if (this.#resendQueue.length > 0) {
      this.#resendTimer = setTimeout(() => this.#sendResends(1), RESEND_INTERVAL_MS);
    }
  }

  #stopResends(): void {
    if (this.#resendTimer) clearTimeout(this.#resendTimer);
    this.#resendTimer = null;
    this.#resendQueue = [];
  }

  /** A new membership (created, joined, or joined afresh after a lost resume): what the old
   * one sent or held is not ours to re-send or hand back under a new user id. */
  #forgetRoom(): void {
    this.#stopResends();
    this.#outbox.clear();
    this.#held.clear();
    this.#repeats.clear();
  }

  /** The client's own bookkeeping, before any page sees the message. */
  #track(msg: ServerMessage): void {
    switch (msg.type) {
      case 'session_created':
      case 'session_joined':
      case 'session_resumed': {
        const resumed = msg.type === 'session_resumed';
        if (!resumed) this.#forgetRoom();
        // A newcomer has seen everything up to the session's seq. A resume keeps ours: what we
        // missed is replayed after this message and must not look already seen.
        if (!resumed || this.#seq === null) this.#seq = msg.session.seq;
        this.#phase = 'joined';
        this.#userId = msg.your_user_id;
        this.#attempts = 0;
        this.#writeToken(msg.resume_token);
        this.#setStatus({ inSession: true, restarting: false });
        if (resumed) this.#catchUp(msg.history_after);
        break;
      }
      case 'token_refreshed':
        this.#writeToken(msg.resume_token);
        break;
      case 'error':
        this.#trackError(msg.code, msg.retry_after_ms);
        break;
      case 'server_restarting': {
        // Spread over the window the relay names, so its clients come back at a rate it takes.
        const jitter = msg.retry_jitter_ms ?? this.#opts.restartJitterMs;
        this.#restartAt = Date.now() + msg.retry_after_ms + this.#opts.random() * jitter;
        this.#setStatus({ restarting: true });
        break;
      }
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
    this.#forgetRoom();
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
    this.#stopResends();
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
