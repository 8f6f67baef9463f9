// The guest's end of one WebRTC audio connection to the host: answers the host's offer, trades
// ICE candidates (queued until the offer is in), hands the received stream to the page, and
// reports how it connected (or where it failed) with `webrtc_connected`. One instance per offer.
// A connection that was up can drop (`disconnected`: the host's browser is gone, or a network
// changed): that is reported at once, as it may still come back by itself; `failed` is final.
// A host that sends covers opens a data channel with its offer (lib/coverChannel.ts); each cover
// it carries goes to the page.

import { COVER_CHANNEL, readCoverMessage, type CoverMessage } from '../../../lib/coverChannel';
import type { DirectMessage } from '../../../protocol/client';
import type { IcePath, IceServer } from '../../../protocol/wire';
import {
  candidateType,
  rtcConfig,
  selectedPath,
  toCandidate,
  toDescription,
  type FailedStage,
} from '../../../lib/webrtc';

export interface GuestPeerEvents {
  onStream(stream: MediaStream): void;
  onConnected(path: IcePath | null): void;
  /** The connection dropped (the host went away, or the network changed); it may come back. */
  onDisconnected(): void;
  /** `dropped`: it had been connected, so the path worked and what failed was the link itself. */
  onFailed(stage: FailedStage, localTypes: Set<string>, remoteTypes: Set<string>, dropped: boolean): void;
  /** The host's cover for a track (hosts without covers never send one). */
  onCover?(cover: CoverMessage): void;
}

export class GuestPeer {
  readonly pc: RTCPeerConnection;
  readonly #pending: RTCIceCandidateInit[] = [];
  readonly #localTypes = new Set<string>();
  readonly #remoteTypes = new Set<string>();
  #reported: 'none' | 'connected' | 'disconnected' | 'failed' = 'none';
  #closed = false;

  readonly #send: (msg: DirectMessage) => void;
  readonly #events: GuestPeerEvents;

  constructor(iceServers: IceServer[], send: (msg: DirectMessage) => void, events: GuestPeerEvents) {
    this.#send = send;
    this.#events = events;
    const pc = new RTCPeerConnection(rtcConfig(iceServers));
    this.pc = pc;
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      const type = candidateType(e.candidate.candidate);
      if (type) this.#localTypes.add(type);
      this.#send({ type: 'webrtc_ice', candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => this.#events.onStream(e.streams[0] ?? new MediaStream([e.track]));
    pc.ondatachannel = ({ channel }) => {
      if (channel.label !== COVER_CHANNEL) return;
      channel.onmessage = (e) => {
        const cover = readCoverMessage(e.data);
        if (cover && !this.#closed) this.#events.onCover?.(cover);
      };
    };
    pc.onconnectionstatechange = () => this.#check();
    pc.oniceconnectionstatechange = () => this.#check();
  }

  /** Answers the host's offer; the answer goes back as `{type, sdp}`. */
  async acceptOffer(sdp: unknown): Promise<void> {
    const offer = toDescription(sdp, 'offer');
    if (!offer) throw new Error('unreadable offer');
    await this.pc.setRemoteDescription(offer);
    for (const c of this.#pending.splice(0)) await this.#addCandidate(c);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.#send({ type: 'webrtc_answer', sdp: { type: answer.type, sdp: answer.sdp } });
  }

  async addRemoteCandidate(raw: unknown): Promise<void> {
    const c = toCandidate(raw);
    if (!c?.candidate) return;
    const type = candidateType(c.candidate);
    if (type) this.#remoteTypes.add(type);
    if (!this.pc.remoteDescription) this.#pending.push(c);
    else await this.#addCandidate(c);
  }

  get isLive(): boolean {
    const s = this.pc.connectionState;
    return !this.#closed && (s === 'new' || s === 'connecting' || s === 'connected');
  }

  get isConnected(): boolean {
    return !this.#closed && this.pc.connectionState === 'connected';
  }

  close(): void {
    this.#closed = true;
    this.pc.close();
  }

  async #addCandidate(c: RTCIceCandidateInit): Promise<void> {
    try {
      await this.pc.addIceCandidate(c);
    } catch {
      // One bad candidate (an mDNS name we cannot resolve, say) must not stop the others.
    }
  }

  #check(): void {
    const reported = this.#reported;
    if (this.#closed || reported === 'failed') return;
    const state = this.pc.connectionState;
    const ice = this.pc.iceConnectionState;
    if (state === 'failed' || ice === 'failed') {
      this.#reported = 'failed';
      const dropped = reported !== 'none';
      // ICE found a pair but the connection still failed: the DTLS handshake did not complete.
      const stage: FailedStage = ice === 'connected' || ice === 'completed' ? 'dtls' : 'ice';
      // A link that was up and went down did not fail at any stage of setting it up.
      this.#send({ type: 'webrtc_connected', connected: false, ...(dropped ? {} : { failed_stage: stage }) });
      this.#events.onFailed(stage, this.#localTypes, this.#remoteTypes, dropped);
    } else if (state === 'disconnected' || ice === 'disconnected') {
      // Browsers differ in which of the two states they move first; either means no audio.
      if (reported !== 'connected') return;
      this.#reported = 'disconnected';
      this.#send({ type: 'webrtc_connected', connected: false });
      this.#events.onDisconnected();
    } else if (state === 'connected' && reported !== 'connected') {
      // The first time, or back again after a drop.
      this.#reported = 'connected';
      void selectedPath(this.pc).then((path) => {
        // Dropped again (or closed) while the stats were read: that was reported instead.
        if (this.#closed || this.#reported !== 'connected') return;
        this.#send({ type: 'webrtc_connected', connected: true, ...(path ? { path } : {}) });
        this.#events.onConnected(path);
      });
    }
  }
}
