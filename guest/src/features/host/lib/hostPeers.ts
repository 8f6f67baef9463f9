// The host's WebRTC side, as the Familiar host does it: one RTCPeerConnection per guest, created
// only when the relay sends `webrtc_create_offer`, carrying the outgoing audio track; the offer
// goes out as `{type, sdp}` and ICE candidates are addressed with `target_user_id`.

import type { ClientMessage, IceServer } from '../../../protocol/wire';
import { rtcConfig, toCandidate, toDescription } from '../../../lib/webrtc';

interface Peer {
  pc: RTCPeerConnection;
  pending: RTCIceCandidateInit[];
}

export interface AudioSource {
  stream: MediaStream;
  track: MediaStreamTrack | null;
}

export class HostPeers {
  readonly #peers = new Map<string, Peer>();
  iceServers: IceServer[] = [];

  readonly #send: (msg: ClientMessage) => void;
  readonly #source: () => AudioSource | null;

  constructor(send: (msg: ClientMessage) => void, source: () => AudioSource | null) {
    this.#send = send;
    this.#source = source;
  }

  /** Answers `webrtc_create_offer`: a fresh connection for that guest, replacing any old one. */
  async offer(target: string): Promise<void> {
    this.close(target);
    const pc = new RTCPeerConnection(rtcConfig(this.iceServers));
    const peer: Peer = { pc, pending: [] };
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

async function addCandidate(pc: RTCPeerConnection, c: RTCIceCandidateInit): Promise<void> {
  try {
    await pc.addIceCandidate(c);
  } catch {
    // One unusable candidate must not stop the others.
  }
}
