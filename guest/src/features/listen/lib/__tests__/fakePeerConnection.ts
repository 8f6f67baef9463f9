// A stand-in RTCPeerConnection for unit tests in Node (which has no WebRTC): records what the
// code under test did with it and lets a test move its ICE and connection states by hand.

export class FakePeerConnection {
  static all: FakePeerConnection[] = [];
  static get last(): FakePeerConnection {
    const pc = FakePeerConnection.all.at(-1);
    if (!pc) throw new Error('no peer connection was made');
    return pc;
  }

  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  remoteDescription: RTCSessionDescriptionInit | null = null;
  readonly candidates: RTCIceCandidateInit[] = [];
  onconnectionstatechange: (() => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  onicecandidate: unknown = null;
  ontrack: unknown = null;

  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.all.push(this);
  }

  /** A selected host-to-host pair: a direct path. */
  async getStats() {
    return new Map<string, object>([
      ['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }],
      ['P', { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' }],
      ['L', { id: 'L', type: 'local-candidate', candidateType: 'host' }],
      ['R', { id: 'R', type: 'remote-candidate', candidateType: 'prflx' }],
    ]);
  }

  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
  }

  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'answer', sdp: 'v=0 answer' };
  }

  async setLocalDescription() {}

  async addIceCandidate(c: RTCIceCandidateInit) {
    this.candidates.push(c);
  }

  close() {
    this.connectionState = 'closed';
  }

  /** Moves ICE first, as browsers do, then the connection state. */
  to(ice: RTCIceConnectionState, connection: RTCPeerConnectionState = this.connectionState) {
    this.iceConnectionState = ice;
    this.oniceconnectionstatechange?.();
    this.connectionState = connection;
    this.onconnectionstatechange?.();
  }
}
