// The client's half of "every chat and reaction exactly once" across dropped sockets and relay
// restarts: the ids it gives what it sends, the outbox of what it sent but has not yet seen
// echoed (re-sent after a resume, with the same id, so the relay recognises a copy it already
// took), the frames it keeps to hand back when a restarted relay asks (`history`), and the
// filter that drops repeats by `seq` and by (user, id). Plain data structures; `SessionClient`
// decides when each is used.

import type { ClientMessage, ServerMessage } from './wire';

/** What a person says in the room: the messages that carry an id and are echoed to the sender. */
export type RoomMessage = Extract<ClientMessage, { type: 'chat' | 'reaction' }>;

/** The room's broadcasts of chat and reactions. */
export type RoomFrame = Extract<ServerMessage, { type: 'chat' | 'user_reaction' }>;

export function isRoomFrame(msg: ServerMessage): msg is RoomFrame {
  return msg.type === 'chat' || msg.type === 'user_reaction';
}

/** 16 random bytes as 32 hex digits: unguessable, and inside the relay's 1–64 of `[A-Za-z0-9_-]`. */
export function newMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A set that forgets its oldest members beyond `capacity` (a Set iterates in insertion order). */
export class BoundedSet<T> {
  readonly #items = new Set<T>();

  constructor(readonly capacity: number) {}

  has(item: T): boolean {
    return this.#items.has(item);
  }

  add(item: T): void {
    if (this.#items.has(item)) return;
    this.#items.add(item);
    if (this.#items.size <= this.capacity) return;
    for (const oldest of this.#items) {
      this.#items.delete(oldest);
      break;
    }
  }

  clear(): void {
    this.#items.clear();
  }
}

/**
 * Chat and reactions already passed on. After a relay restart, frames handed back by other
 * members arrive late and below the highest `seq`, so "at or below the highest" would lose them:
 * a frame is a repeat only if its own `seq` was seen, or its sender's id for it was.
 */
export class RepeatFilter {
  readonly #seqs: BoundedSet<number>;
  readonly #ids: BoundedSet<string>;

  constructor(capacity: number) {
    this.#seqs = new BoundedSet(capacity);
    this.#ids = new BoundedSet(capacity);
  }

  /** True if `frame` was passed on before; otherwise remembers it. */
  isRepeat(frame: RoomFrame): boolean {
    const seq = typeof frame.seq === 'number' ? frame.seq : null;
    // An id has no spaces, so "id user" is unambiguous.
    const key = typeof frame.id === 'string' ? `${frame.id} ${frame.user_id}` : null;
    if ((seq !== null && this.#seqs.has(seq)) || (key !== null && this.#ids.has(key))) return true;
    if (seq !== null) this.#seqs.add(seq);
    if (key !== null) this.#ids.add(key);
    return false;
  }

  clear(): void {
    this.#seqs.clear();
    this.#ids.clear();
  }
}

/** One chat or reaction sent and not yet seen echoed. */
export interface Pending {
  readonly msg: RoomMessage & { id: string };
  /** The socket it last went out on (null while queued for a re-send). */
  sentOn: unknown;
  /** Times it was re-sent after a resume without ever being echoed. */
  resends: number;
}

/**
 * What was sent and not yet seen echoed, oldest first, at most `capacity`. An entry is settled by
 * its echo, and then so is every entry sent before it on the same socket: the relay answers one
 * socket's messages in order, so those were either echoed already or refused (rate limited),
 * and a refused one must not come back at the next resume.
 */
export class Outbox {
  #pending: Pending[] = [];

  constructor(
    readonly capacity: number,
    /** An entry re-sent this often without an echo is one the relay keeps refusing. */
    readonly maxResends: number,
  ) {}

  get size(): number {
    return this.#pending.length;
  }

  add(msg: RoomMessage & { id: string }, sentOn: unknown): Pending {
    const entry: Pending = { msg, sentOn, resends: 0 };
    this.#pending.push(entry);
    if (this.#pending.length > this.capacity) this.#pending.shift();
    return entry;
  }

  /** Our echo of `id` arrived on `socket`. */
  settle(id: string, socket: unknown): void {
    const at = this.#pending.findIndex((p) => p.msg.id === id);
    if (at < 0) return;
    const sameSocket = this.#pending[at]?.sentOn === socket;
    this.#pending = this.#pending.filter((p, i) => i > at || (i < at && !(sameSocket && p.sentOn === socket)));
  }

  /** Everything still unechoed, oldest first, to send again after a resume. */
  takeForResend(): Pending[] {
    this.#pending = this.#pending.filter((p) => p.resends < this.maxResends);
    for (const p of this.#pending) {
      p.resends += 1;
      p.sentOn = null;
    }
    return [...this.#pending];
  }

  /** Whether `entry` is still waiting for its echo (a queued re-send may have been settled). */
  holds(entry: Pending): boolean {
    return this.#pending.includes(entry);
  }

  clear(): void {
    this.#pending = [];
  }
}

/** Bytes of `text` as UTF-8, which is how the WebSocket frames it. */
function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * The raw text of the last `capacity` chat and reaction frames received (the relay's seal covers
 * the exact bytes, so they are kept as they came), in `seq` order, to hand back in `history`.
 */
export class HeldFrames {
  #frames: { seq: number; text: string }[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#frames.length;
  }

  /** Keeps a frame; one handed back late slots in by its `seq`, and the lowest goes when full. */
  keep(seq: number, text: string): void {
    let at = this.#frames.length;
    while (at > 0 && (this.#frames[at - 1]?.seq ?? 0) > seq) at -= 1;
    if (this.#frames[at - 1]?.seq === seq) return;
    this.#frames.splice(at, 0, { seq, text });
    if (this.#frames.length > this.capacity) this.#frames.shift();
  }

  /**
   * The `history` message for a relay that asked for what came after `after`: the frames above
   * it, oldest first, as many of the newest as fit in `maxBytes` once framed as JSON.
   */
  historyAfter(after: number, maxBytes: number): Extract<ClientMessage, { type: 'history' }> {
    const entries: string[] = [];
    let bytes = utf8Bytes(JSON.stringify({ type: 'history', entries: [] }));
    for (let i = this.#frames.length - 1; i >= 0; i--) {
      const frame = this.#frames[i];
      if (!frame || frame.seq <= after) break;
      // The entry as a JSON string, and its comma.
      const cost = utf8Bytes(JSON.stringify(frame.text)) + (entries.length > 0 ? 1 : 0);
      if (bytes + cost > maxBytes) break;
      bytes += cost;
      entries.push(frame.text);
    }
    return { type: 'history', entries: entries.reverse() };
  }

  clear(): void {
    this.#frames = [];
  }
}
