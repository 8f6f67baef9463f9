// Unit tests of the guest's peer connection as a state machine, over a fake RTCPeerConnection:
// connected (with its path), dropped and recovered, dropped for good, and failed while setting up.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientMessage } from '../../../../protocol/wire';
import { GuestPeer, type GuestPeerEvents } from '../guestPeer';
import { FakePeerConnection } from './fakePeerConnection';

const flush = () => new Promise((r) => setTimeout(r, 0));

let sent: ClientMessage[];
let events: string[];
let peer: GuestPeer;
let pc: FakePeerConnection;

beforeEach(() => {
  vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
  sent = [];
  events = [];
  const handlers: GuestPeerEvents = {
    onStream: () => events.push('stream'),
    onConnected: (path) => events.push(`connected:${path}`),
    onDisconnected: () => events.push('disconnected'),
    onFailed: (stage, _l, _r, dropped) => events.push(`failed:${stage}:${dropped ? 'dropped' : 'setup'}`),
  };
  peer = new GuestPeer([], (m) => sent.push(m), handlers);
  pc = FakePeerConnection.last;
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const reports = () => sent.filter((m) => m.type === 'webrtc_connected');

describe('GuestPeer', () => {
  it('reports a connection with its path once', async () => {
    pc.to('checking', 'connecting');
    pc.to('connected', 'connected');
    pc.to('completed');
    await flush();
    expect(events).toEqual(['connected:direct']);
    expect(reports()).toEqual([{ type: 'webrtc_connected', connected: true, path: 'direct' }]);
    expect(peer.isConnected).toBe(true);
  });

  it('says at once when a working connection drops, and again when it comes back', async () => {
    pc.to('connected', 'connected');
    await flush();
    // Either state moving to `disconnected` is enough; the second one adds nothing.
    pc.to('disconnected');
    pc.to('disconnected', 'disconnected');
    expect(events).toEqual(['connected:direct', 'disconnected']);
    expect(reports().at(-1)).toEqual({ type: 'webrtc_connected', connected: false });
    expect(peer.isLive).toBe(false);

    pc.to('connected', 'connected');
    await flush();
    expect(events).toEqual(['connected:direct', 'disconnected', 'connected:direct']);
    expect(reports().at(-1)).toEqual({ type: 'webrtc_connected', connected: true, path: 'direct' });
  });

  it('reports a drop that does not recover as dropped, not as a failed setup', async () => {
    pc.to('connected', 'connected');
    await flush();
    pc.to('disconnected', 'disconnected');
    // Chrome fails the connection while ICE still says disconnected.
    pc.to('disconnected', 'failed');
    pc.to('failed');
    expect(events).toEqual(['connected:direct', 'disconnected', 'failed:ice:dropped']);
    // The host's list then says "Disconnected" rather than "failed at ice".
    expect(reports().at(-1)).toEqual({ type: 'webrtc_connected', connected: false });
    // Failed is final.
    pc.to('connected', 'connected');
    await flush();
    expect(events).toHaveLength(3);
  });

  it('also counts a connection that fails straight from connected as dropped', async () => {
    pc.to('connected', 'connected');
    await flush();
    pc.to('failed', 'failed');
    expect(events).toEqual(['connected:direct', 'failed:ice:dropped']);
  });

  it('names the stage when it never connected', () => {
    pc.to('checking', 'connecting');
    pc.to('failed', 'failed');
    expect(events).toEqual(['failed:ice:setup']);
    expect(reports()).toEqual([{ type: 'webrtc_connected', connected: false, failed_stage: 'ice' }]);
  });

  it('blames DTLS when ICE connected but the connection failed', () => {
    pc.to('connected', 'connecting');
    pc.to('connected', 'failed');
    expect(events).toEqual(['failed:dtls:setup']);
  });

  it('does not report connected when it dropped while the path was being read', async () => {
    pc.to('connected', 'connected');
    pc.to('disconnected', 'disconnected');
    await flush();
    expect(events).toEqual(['disconnected']);
    expect(reports()).toEqual([{ type: 'webrtc_connected', connected: false }]);
  });

  it('is silent once closed', async () => {
    peer.close();
    pc.to('connected', 'connected');
    pc.to('failed', 'failed');
    await flush();
    expect(events).toEqual([]);
    expect(sent).toEqual([]);
  });
});
