// Unit tests of the WebRTC helpers: both wire shapes of sdp and candidates, the connection path
// from getStats, and the plain-words explanation of a failure.

import { describe, expect, it } from 'vitest';
import {
  candidateType,
  explainFailure,
  pathFromStats,
  pathFromTypes,
  toCandidate,
  toDescription,
} from '../webrtc';

describe('toDescription', () => {
  it('accepts the object form and a bare SDP string', () => {
    expect(toDescription({ type: 'offer', sdp: 'v=0' }, 'offer')).toEqual({ type: 'offer', sdp: 'v=0' });
    expect(toDescription('v=0', 'answer')).toEqual({ type: 'answer', sdp: 'v=0' });
    expect(toDescription({ sdp: 'v=0' }, 'answer')).toEqual({ type: 'answer', sdp: 'v=0' });
    expect(toDescription({ type: 'bogus', sdp: 'v=0' }, 'offer')).toEqual({ type: 'offer', sdp: 'v=0' });
  });

  it('rejects what is not a description', () => {
    expect(toDescription(null, 'offer')).toBeNull();
    expect(toDescription({ type: 'offer' }, 'offer')).toBeNull();
    expect(toDescription('', 'offer')).toBeNull();
  });
});

describe('toCandidate', () => {
  const line = 'candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host';

  it('reads toJSON() output', () => {
    expect(toCandidate({ candidate: line, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' })).toEqual({
      candidate: line,
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'u',
    });
  });

  it('fills an m-line index when neither mid nor index came', () => {
    expect(toCandidate({ candidate: line })).toEqual({ candidate: line, sdpMid: null, sdpMLineIndex: 0 });
    expect(toCandidate(line)).toEqual({ candidate: line, sdpMid: '0', sdpMLineIndex: 0 });
  });

  it('skips end-of-candidates and junk', () => {
    expect(toCandidate(null)).toBeNull();
    expect(toCandidate({ candidate: '' })).toBeNull();
    expect(toCandidate(42)).toBeNull();
  });

  it('reads the candidate type', () => {
    expect(candidateType(line)).toBe('host');
    expect(candidateType('candidate:2 1 udp 1 198.51.100.1 3478 typ relay raddr 0.0.0.0 rport 0')).toBe('relay');
    expect(candidateType('garbage')).toBeNull();
  });
});

describe('connection path', () => {
  it('maps candidate types', () => {
    expect(pathFromTypes('host', 'host')).toBe('direct');
    expect(pathFromTypes('srflx', 'host')).toBe('stun');
    expect(pathFromTypes('host', 'srflx')).toBe('stun');
    expect(pathFromTypes('srflx', 'relay')).toBe('turn');
    expect(pathFromTypes('relay', 'prflx')).toBe('turn');
  });

  it('counts peer-reflexive candidates as direct: they appear on loopback and LAN paths too', () => {
    expect(pathFromTypes('host', 'prflx')).toBe('direct');
    expect(pathFromTypes('prflx', 'host')).toBe('direct');
    expect(pathFromTypes('prflx', 'prflx')).toBe('direct');
    // A STUN-learned address on the other side still makes it STUN.
    expect(pathFromTypes('prflx', 'srflx')).toBe('stun');
    expect(pathFromTypes(undefined, undefined)).toBe('direct');
  });

  it('reports the same path for a loopback pair whichever side learned the prflx address', () => {
    const pair = (local: string, remote: string) => [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
      { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' },
      { id: 'L', type: 'local-candidate', candidateType: local },
      { id: 'R', type: 'remote-candidate', candidateType: remote },
    ];
    expect(pathFromStats(pair('host', 'host'))).toBe('direct');
    expect(pathFromStats(pair('host', 'prflx'))).toBe('direct');
    expect(pathFromStats(pair('prflx', 'host'))).toBe('direct');
  });

  it('follows the transport to the selected pair (Chrome, Safari)', () => {
    const stats = [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1' },
      { id: 'P2', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R1' },
      { id: 'L1', type: 'local-candidate', candidateType: 'host' },
      { id: 'L2', type: 'local-candidate', candidateType: 'relay' },
      { id: 'R1', type: 'remote-candidate', candidateType: 'srflx' },
    ];
    expect(pathFromStats(stats)).toBe('turn');
  });

  it('uses the selected flag without transport stats (Firefox)', () => {
    const stats = [
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', selected: true },
      { id: 'L1', type: 'local-candidate', candidateType: 'srflx' },
      { id: 'R1', type: 'remote-candidate', candidateType: 'host' },
    ];
    expect(pathFromStats(stats)).toBe('stun');
    expect(pathFromStats([])).toBeNull();
  });
});

describe('explainFailure', () => {
  const base = { stage: 'ice' as const, remoteTypes: new Set(['host', 'srflx']) };

  it('names the missing TURN server', () => {
    const text = explainFailure({ ...base, localTypes: new Set(['host', 'srflx']), turnAvailable: false });
    expect(text).toMatch(/can.t reach each other directly/);
    expect(text).toMatch(/no TURN server/);
  });

  it('says when even STUN is blocked', () => {
    const text = explainFailure({ ...base, localTypes: new Set(['host']), turnAvailable: false });
    expect(text).toMatch(/blocks the way browsers find each other/);
  });

  it('says when TURN is there but unreachable', () => {
    const text = explainFailure({ ...base, localTypes: new Set(['host', 'srflx']), turnAvailable: true });
    expect(text).toMatch(/the relay.s TURN server too/);
  });

  it('points at the host when TURN was reachable here', () => {
    const text = explainFailure({ ...base, localTypes: new Set(['host', 'relay']), turnAvailable: true });
    expect(text).toMatch(/host's network/);
  });

  it('covers the other stages', () => {
    const none = new Set<string>();
    expect(explainFailure({ stage: 'signaling', localTypes: none, remoteTypes: none, turnAvailable: true })).toMatch(/didn't answer/);
    expect(explainFailure({ stage: 'dtls', localTypes: none, remoteTypes: none, turnAvailable: true })).toMatch(/secured/);
    expect(explainFailure({ stage: 'ice', localTypes: none, remoteTypes: none, turnAvailable: true })).toMatch(/gave no way to reach it/);
  });
});
