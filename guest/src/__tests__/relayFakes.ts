// What the unit tests stand in for the relay with: a WebSocket a test drives the way the relay
// would (open it, deliver frames, drop it, read what was sent), and a session view to welcome
// with. Plain TypeScript, so the protocol client's tests use it without React; dom.tsx wraps
// the socket's events in act() for component tests.

import type { SocketLike } from '../protocol/client';
import type { ClientMessage, ServerMessage, SessionView } from '../protocol/wire';

/** The relay's end of a WebSocket; every socket made is in `all` of its class. */
export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  static get last(): FakeSocket {
    const socket = this.all.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  readyState = 0;
  readonly sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {
    (this.constructor as typeof FakeSocket).all.push(this);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The connection opens. */
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** The relay sends `msg`. */
  deliver(msg: ServerMessage | Record<string, unknown>): void {
    this.deliverText(JSON.stringify(msg));
  }

  /** The relay sends exactly this text (a sealed frame is handed back byte for byte). */
  deliverText(text: string): void {
    this.onmessage?.({ data: text });
  }

  /** The connection breaks without a close frame. */
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
  }

  messages(): ClientMessage[] {
    return this.sent.map((s) => JSON.parse(s) as ClientMessage);
  }

  /** The messages sent of one type. */
  of<T extends ClientMessage['type']>(type: T): Extract<ClientMessage, { type: T }>[] {
    return this.messages().filter((m): m is Extract<ClientMessage, { type: T }> => m.type === type);
  }
}

/** A session as `session_joined` carries it, with `overrides` applied. */
export function sessionView(overrides: Partial<SessionView> = {}): SessionView {
  return {
    id: 's1',
    code: 'ABC123',
    name: 'Friday',
    host_id: 'h',
    created_at: '2024-01-01T00:00:00Z',
    participant_count: 2,
    webrtc_enabled: true,
    has_password: false,
    playback_state: { track_id: null, is_playing: false, position_ms: 0 },
    participants: [],
    seq: 0,
    ...overrides,
  };
}
