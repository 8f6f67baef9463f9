// The host's WebRTC side, as the Familiar host does it: one RTCPeerConnection per guest, created
// only when the relay sends `webrtc_create_offer`, carrying the outgoing audio track; the offer
// goes out as `{type, sdp}` and ICE candidates are addressed with `target_user_id`. Ours adds a
// data channel for cover art (lib/coverChannel.ts), opened before the offer so it is part of it.

import type { DirectMessage } from '../../../protocol/client';
import type { IceServer } from '../../../protocol/wire';
import { COVER_CHANNEL, encodeCover, type CoverMessage } from '../../../lib/coverChannel';
import { rtcConfig, toCandidate, toDescription } from '../../../lib/webrtc';

interface Peer {
  pc: RTCPeerConnection;
  pending: RTCIceCandidateInit[];
  covers: RTCDataChannel;
}

export interface AudioSource {
  stream: MediaStream;
  track: MediaStreamTrack | null;
}

export class HostPeers {
  readonly #peers = new Map<string, Peer>();
  iceServers: IceServer[] = [];

  readonly #send: (msg: DirectMessage) => void;
  readonly #source: () => AudioSource | null;
  /** The cover of what plays now, sent to each guest as its channel opens. */
  #cover: CoverMessage | null = null;

  constructor(send: (msg: DirectMessage) => void, source: () => AudioSource | null) {
    this.#send = send;
    this.#source = source;
  }

  /** Sends the current cover to every guest whose channel is open (and to later ones on open). */
  setCover(cover: CoverMessage): void {
    if (this.#cover?.track_id === cover.track_id && this.#cover.jpeg === cover.jpeg) return;
    this.#cover = cover;
    for (const peer of this.#peers.values()) sendCover(peer.covers, cover);
  }

  /** How many connections exist (the page counts them for the browser tests). */
  get size(): number {
    return this.#peers.size;
  }

  /** Answers `webrtc_create_offer`: a fresh connection for that guest, replacing any old one. */
  async offer(target: string): Promise<void> {
    this.close(target);
    const pc = new RTCPeerConnection(rtcConfig(this.iceServers));
    const covers = pc.createDataChannel(COVER_CHANNEL, { ordered: true });
    covers.onopen = () => this.#cover && sendCover(covers, this.#cover);
    const peer: Peer = { pc, pending: [], covers };
    this.#peers.set(target, peer);
    const audio = this.#source();
    if (audio?.track) pc.addTrack(audio.track, audio.stream);
    else pc.addTransceiver('audio', { direction: 'sendonly' });
    pc.onicecandidate = (e) => {
      if (e.candidate) this.#send({ type: 'webrtc_ice', target_user_id: target, candidate: e.candidate.toJSON() });
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (this.#peers.get(target) !== peer) return;
    this.#send({ type: 'webrtc_offer', target_user_id: target, sdp: { type: offer.type, sdp: offer.sdp } });
  }

  async answer(from: string, sdp: unknown): Promise<void> {
    const peer = this.#peers.get(from);
    const answer = toDescription(sdp, 'answer');
    if (!peer || !answer) return;
    await peer.pc.setRemoteDescription(answer);
    for (const c of peer.pending.splice(0)) await addCandidate(peer.pc, c);
  }

  async ice(from: string, raw: unknown): Promise<void> {
    const peer = this.#peers.get(from);
    const candidate = toCandidate(raw);
    if (!peer || !candidate) return;
    if (!peer.pc.remoteDescription) peer.pending.push(candidate);
    else await addCandidate(peer.pc, candidate);
  }

  close(userId: string): void {
    this.#peers.get(userId)?.pc.close();
    this.#peers.delete(userId);
  }

  closeAll(): void {
    for (const id of [...this.#peers.keys()]) this.close(id);
  }
}

function sendCover(channel: RTCDataChannel, cover: CoverMessage): void {
  if (channel.readyState !== 'open') return;
  try {
    channel.send(encodeCover(cover));
  } catch {
    // A channel closing as we send: the guest gets the next one on its new connection.
  }
}

async function addCandidate(pc: RTCPeerConnection, c: RTCIceCandidateInit): Promise<void> {
  try {
    await pc.addIceCandidate(c);
  } catch {
    // One unusable candidate must not stop the others.
  }
}
