// WebRTC helpers shared by guest and host: reading `sdp`/`candidate` in either wire shape, how a
// connection was made (direct, STUN or TURN) from getStats, and why ICE failed in plain words.
// The wire sends `sdp` as {type, sdp} and `candidate` as RTCIceCandidate.toJSON(); older peers
// may send a bare SDP string, so both are accepted.

import type { IcePath, IceServer } from '../protocol/wire';

const SDP_TYPES: readonly string[] = ['offer', 'answer', 'pranswer', 'rollback'];

/** The session description in `sdp`, whether an object or a bare SDP string. */
export function toDescription(sdp: unknown, expected: RTCSdpType): RTCSessionDescriptionInit | null {
  if (typeof sdp === 'string') return sdp ? { type: expected, sdp } : null;
  if (!sdp || typeof sdp !== 'object') return null;
  const o = sdp as { type?: unknown; sdp?: unknown };
  if (typeof o.sdp !== 'string') return null;
  const type = typeof o.type === 'string' && SDP_TYPES.includes(o.type) ? (o.type as RTCSdpType) : expected;
  return { type, sdp: o.sdp };
}

/** The ICE candidate in `candidate`; null for end-of-candidates or anything unreadable. */
export function toCandidate(candidate: unknown): RTCIceCandidateInit | null {
  if (typeof candidate === 'string') {
    return candidate ? { candidate, sdpMid: '0', sdpMLineIndex: 0 } : null;
  }
  if (!candidate || typeof candidate !== 'object') return null;
  const c = candidate as Record<string, unknown>;
  if (typeof c.candidate !== 'string' || !c.candidate) return null;
  const init: RTCIceCandidateInit = {
    candidate: c.candidate,
    sdpMid: typeof c.sdpMid === 'string' ? c.sdpMid : null,
    sdpMLineIndex: typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : null,
  };
  if (init.sdpMid === null && init.sdpMLineIndex === null) init.sdpMLineIndex = 0;
  if (typeof c.usernameFragment === 'string') init.usernameFragment = c.usernameFragment;
  return init;
}

/** "candidate:1 1 udp 2122260223 10.0.0.2 5000 typ srflx ..." → "srflx". */
export function candidateType(line: string): string | null {
  return / typ ([a-z]+)/.exec(line)?.[1] ?? null;
}

/**
 * A relay on either side means TURN; a server-reflexive address (learned from a STUN server) on
 * either side means STUN; host and peer-reflexive candidates mean a direct path. A `prflx`
 * candidate is only an address seen in the connectivity checks themselves (it shows up on plain
 * loopback and LAN connections too), so it is no evidence that a STUN server was involved.
 */
export function pathFromTypes(local: string | undefined, remote: string | undefined): IcePath {
  if (local === 'relay' || remote === 'relay') return 'turn';
  return local === 'srflx' || remote === 'srflx' ? 'stun' : 'direct';
}

type StatLike = { id: string; type: string; [key: string]: unknown };

/** The path of the selected candidate pair in a getStats report, or null before there is one. */
export function pathFromStats(stats: Iterable<StatLike>): IcePath | null {
  const byId = new Map<string, StatLike>();
  for (const s of stats) byId.set(s.id, s);
  let pair: StatLike | undefined;
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      pair = byId.get(s.selectedCandidatePairId);
    }
  }
  // Firefox has no transport stats; it marks the pair instead.
  pair ??= [...byId.values()].find(
    (s) => s.type === 'candidate-pair' && (s.selected === true || (s.nominated === true && s.state === 'succeeded')),
  );
  if (!pair) return null;
  const local = byId.get(String(pair.localCandidateId))?.candidateType;
  const remote = byId.get(String(pair.remoteCandidateId))?.candidateType;
  return pathFromTypes(typeof local === 'string' ? local : undefined, typeof remote === 'string' ? remote : undefined);
}

export async function selectedPath(pc: RTCPeerConnection): Promise<IcePath | null> {
  try {
    const report = await pc.getStats();
    return pathFromStats(report.values() as Iterable<StatLike>);
  } catch {
    return null;
  }
}

export function rtcConfig(servers: IceServer[]): RTCConfiguration {
  return { iceServers: servers.map((s) => ({ ...s })) };
}

/** Where a guest's audio connection failed, as sent in `webrtc_connected.failed_stage`. */
export type FailedStage = 'signaling' | 'ice' | 'dtls';

export interface IceFailure {
  stage: FailedStage;
  /** Candidate types this side gathered (host, srflx, relay...). */
  localTypes: ReadonlySet<string>;
  /** Candidate types the other side sent. */
  remoteTypes: ReadonlySet<string>;
  /** From the by-code lookup: whether this relay hands out TURN servers. */
  turnAvailable: boolean;
}

const TRY_OTHER = ' Try another network, such as mobile data.';

/** Why the audio could not connect, in words a listener understands, with a way forward. */
export function explainFailure(f: IceFailure): string {
  if (f.stage === 'signaling') return "The host's player didn't answer. It may be busy; try again in a moment.";
  if (f.stage === 'dtls') return 'A path to the host was found but could not be secured; a firewall may be in the way.' + TRY_OTHER;
  if (!f.remoteTypes.size) return "The host's network gave no way to reach it. Ask the host to check their connection.";
  if (!f.turnAvailable) {
    return (
      (f.localTypes.has('srflx') ? 'Your network and the host’s can’t reach each other directly' : 'Your network blocks the way browsers find each other') +
      ', and this relay has no TURN server to pass the audio through.' +
      TRY_OTHER
    );
  }
  return f.localTypes.has('relay')
    ? "Even the relay's TURN server couldn't carry the audio; the host's network may block it. Ask the host to check, or try again."
    : 'Your network blocks direct connections and the relay’s TURN server too.' + TRY_OTHER;
}
