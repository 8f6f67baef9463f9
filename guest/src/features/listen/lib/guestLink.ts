// The guest's audio link to the host and the policy for asking for it: when to send
// `webrtc_request` (on joining, on a resume whose connection is gone, when the host is back), how
// long to wait for the offer and how often to ask again, answering each offer with a fresh
// `GuestPeer`, and what a drop or a failure turns into. Plain TypeScript over the peer and timers,
// so it is unit-tested without React; `useGuestSession` renders its snapshot.
// The link is deliberately independent of the socket: audio keeps playing while the relay is
// unreachable, and a resumed session keeps the connection it had.

import type { CoverMessage } from '../../../lib/coverChannel';
import type { FailedStage, IceFailure } from '../../../lib/webrtc';
import type { DirectMessage } from '../../../protocol/client';
import type { IcePath, IceServer, ServerMessage } from '../../../protocol/wire';
import { GuestPeer } from './guestPeer';

/** The audio link as the page tracks it: `interrupted` is a drop it may recover from. */
export type Link = 'idle' | 'negotiating' | 'connected' | 'interrupted' | 'failed';

export interface LinkSnapshot {
  link: Link;
  /** How the last connection was made. */
  path: IcePath | null;
  /** Why the audio could not connect, while `link` is `failed`. */
  failure: Omit<IceFailure, 'turnAvailable'> | null;
}

export interface GuestLinkOptions {
  send(msg: DirectMessage): void;
  onStream(stream: MediaStream): void;
  /** A cover from the host, over the current connection. */
  onCover?(cover: CoverMessage): void;
  /** Whether the host is away: nobody answers a request until it is back. */
  hostAway(): boolean;
}

/** Old guest pages wait this long after joining before asking; the host app expects it. */
export const REQUEST_DELAY_MS = 500;
/** How long to wait for the host's offer before asking once more, then giving up. */
export const OFFER_TIMEOUT_MS = 12_000;

/**
 * Whether `msg` means asking the host for audio (`webrtc_request`): on joining; on a resume
 * (after a relay restart, say) unless the connection we have still works; and when the host is
 * back while we have no working connection, since the relay drops requests made while it was away.
 */
export function wantsAudio(
  msg: ServerMessage,
  hostId: string | undefined,
  peer: { isLive: boolean; isConnected: boolean } | null,
): boolean {
  if (msg.type === 'session_joined') return true;
  if (msg.type === 'session_resumed') return !peer?.isLive;
  return msg.type === 'user_back' && msg.user_id === hostId && !peer?.isConnected;
}

export class GuestLink {
  #snapshot: LinkSnapshot = { link: 'idle', path: null, failure: null };
  #peer: GuestPeer | null = null;
  #iceServers: IceServer[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #opts: GuestLinkOptions;
  readonly #listeners = new Set<() => void>();

  constructor(options: GuestLinkOptions) {
    this.#opts = options;
  }

  /** For useSyncExternalStore: `getSnapshot` returns a new object only when something changed. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): LinkSnapshot => this.#snapshot;

  /** Every server message, after the room took it; `hostId` is the room's host. */
  receive(msg: ServerMessage, hostId: string | undefined): void {
    if (msg.type === 'session_joined' || msg.type === 'session_resumed') this.#iceServers = msg.ice_servers;
    if (msg.type === 'webrtc_offer') this.#accept(msg.sdp);
    else if (msg.type === 'webrtc_ice') void this.#peer?.addRemoteCandidate(msg.candidate);
    else if (wantsAudio(msg, hostId, this.#peer)) this.request(REQUEST_DELAY_MS);
  }

  /** Asks the host for an offer after `delayMs`, once more if none comes, then gives up. */
  request(delayMs: number): void {
    this.#close();
    this.#set({ link: this.#pending(), failure: null });
    let tries = 0;
    const ask = () => {
      this.#opts.send({ type: 'webrtc_request' });
      this.#timer = setTimeout(() => {
        // While the host is away nobody can answer: its `user_back` asks again.
        if (this.#peer || this.#opts.hostAway()) return;
        if (tries++ < 1) return ask();
        this.#failSignaling();
      }, OFFER_TIMEOUT_MS);
    };
    this.#timer = setTimeout(ask, delayMs);
  }

  /** The session is over (or the page goes): no more audio, nothing pending. */
  stop(): void {
    this.#close();
    this.#set({ link: 'idle', failure: null });
  }

  /** A new connection after a drop still counts as the interruption, until it connects. */
  #pending(): Link {
    return this.#snapshot.link === 'interrupted' ? 'interrupted' : 'negotiating';
  }

  #accept(sdp: unknown): void {
    this.#close();
    const mine = () => this.#peer === peer;
    const peer: GuestPeer = new GuestPeer(this.#iceServers, this.#opts.send, {
      onStream: (stream) => mine() && this.#opts.onStream(stream),
      onCover: (cover) => mine() && this.#opts.onCover?.(cover),
      onConnected: (path) => mine() && this.#set({ link: 'connected', path }),
      onDisconnected: () => mine() && this.#set({ link: 'interrupted' }),
      onFailed: (stage, localTypes, remoteTypes, dropped) => {
        if (!mine()) return;
        if (!dropped) return this.#fail(stage, localTypes, remoteTypes);
        // It worked until now: ask for a new connection, or wait until the host is back to answer.
        this.#set({ link: 'interrupted' });
        if (this.#opts.hostAway()) this.#close();
        else this.request(0);
      },
    });
    this.#peer = peer;
    this.#set({ link: this.#pending() });
    peer.acceptOffer(sdp).catch(() => mine() && this.#failSignaling());
  }

  /** No offer came, or it could not be answered: the host's side of the signaling failed. */
  #failSignaling(): void {
    this.#opts.send({ type: 'webrtc_connected', connected: false, failed_stage: 'signaling' });
    this.#fail('signaling', new Set(), new Set());
  }

  #fail(stage: FailedStage, localTypes: ReadonlySet<string>, remoteTypes: ReadonlySet<string>): void {
    clearTimeout(this.#timer);
    this.#set({ link: 'failed', failure: { stage, localTypes, remoteTypes } });
  }

  #close(): void {
    clearTimeout(this.#timer);
    this.#peer?.close();
    this.#peer = null;
  }

  #set(patch: Partial<LinkSnapshot>): void {
    const next = { ...this.#snapshot, ...patch };
    const keys = Object.keys(next) as (keyof LinkSnapshot)[];
    if (keys.every((k) => next[k] === this.#snapshot[k])) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }
}
