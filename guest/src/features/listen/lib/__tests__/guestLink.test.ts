// Unit tests of the guest's audio link and its request policy, over fake timers and a fake
// RTCPeerConnection under the real GuestPeer: when it asks the host for audio, how often it asks
// again, what it waits for while the host is away, and what a drop or a failure turns into.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientMessage, IceServer, ServerMessage, SessionView } from '../../../../protocol/wire';
import { GuestLink, OFFER_TIMEOUT_MS, REQUEST_DELAY_MS, wantsAudio } from '../guestLink';
import { FakePeerConnection } from './fakePeerConnection';

describe('wantsAudio', () => {
  const working = { isLive: true, isConnected: true };
  const dead = { isLive: false, isConnected: false };
  const connecting = { isLive: true, isConnected: false };
  const joined = { type: 'session_joined' } as ServerMessage;
  const resumed = { type: 'session_resumed' } as ServerMessage;
  const back = (user_id: string) => ({ type: 'user_back', user_id }) as ServerMessage;

  it('asks on joining, whatever it had', () => {
    expect(wantsAudio(joined, 'h', null)).toBe(true);
    expect(wantsAudio(joined, 'h', working)).toBe(true);
  });

  it('keeps a connection that still works across a resume (a relay restart)', () => {
    expect(wantsAudio(resumed, 'h', working)).toBe(false);
    expect(wantsAudio(resumed, 'h', connecting)).toBe(false);
    expect(wantsAudio(resumed, 'h', dead)).toBe(true);
    expect(wantsAudio(resumed, 'h', null)).toBe(true);
  });

  it('asks again when the host is back and the audio is not connected', () => {
    expect(wantsAudio(back('h'), 'h', null)).toBe(true);
    expect(wantsAudio(back('h'), 'h', dead)).toBe(true);
    // A request made while the host was away was dropped by the relay: ask even if one is pending.
    expect(wantsAudio(back('h'), 'h', connecting)).toBe(true);
    expect(wantsAudio(back('h'), 'h', working)).toBe(false);
    // Another member coming back changes nothing.
    expect(wantsAudio(back('g'), 'h', null)).toBe(false);
    expect(wantsAudio({ type: 'host_away', user_id: 'h' } as ServerMessage, 'h', null)).toBe(false);
  });
});

const ICE: IceServer[] = [{ urls: 'stun:stun.example:3478' }];
const session = { id: 's', host_id: 'h' } as SessionView;
const joined = { type: 'session_joined', session, your_user_id: 'me', your_peer_id: 'p', ice_servers: ICE, resume_token: 't' } as ServerMessage;
const resumed = { ...joined, type: 'session_resumed' } as ServerMessage;
const offer = (sdp: unknown = { type: 'offer', sdp: 'v=0 offer' }) => ({ type: 'webrtc_offer', sdp, from_user_id: 'h' }) as ServerMessage;
const hostBack = { type: 'user_back', user_id: 'h' } as ServerMessage;

let sent: ClientMessage[];
let streams: MediaStream[];
let hostAway: boolean;
let link: GuestLink;
let changes: number;

const requests = () => sent.filter((m) => m.type === 'webrtc_request').length;
const state = () => link.getSnapshot().link;
/** Lets the peer's promise chains (answering an offer, reading stats) settle. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
  FakePeerConnection.all = [];
  sent = [];
  streams = [];
  hostAway = false;
  changes = 0;
  link = new GuestLink({ send: (m) => sent.push(m), onStream: (s) => streams.push(s), hostAway: () => hostAway });
  link.subscribe(() => changes++);
});

afterEach(() => {
  link.stop();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Joined, asked, and answered the host's offer; the peer connection is returned. */
async function connected(): Promise<FakePeerConnection> {
  link.receive(joined, 'h');
  vi.advanceTimersByTime(REQUEST_DELAY_MS);
  link.receive(offer(), 'h');
  await settle();
  const pc = FakePeerConnection.last;
  pc.to('connected', 'connected');
  await settle();
  return pc;
}

describe('GuestLink', () => {
  it('asks for audio shortly after joining, not at once', () => {
    link.receive(joined, 'h');
    expect(state()).toBe('negotiating');
    vi.advanceTimersByTime(REQUEST_DELAY_MS - 1);
    expect(requests()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([{ type: 'webrtc_request' }]);
  });

  it('asks once more when no offer comes, then reports the signaling failure', () => {
    link.receive(joined, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS + OFFER_TIMEOUT_MS);
    expect(requests()).toBe(2);
    expect(state()).toBe('negotiating');
    vi.advanceTimersByTime(OFFER_TIMEOUT_MS);
    expect(requests()).toBe(2);
    expect(sent.at(-1)).toEqual({ type: 'webrtc_connected', connected: false, failed_stage: 'signaling' });
    expect(link.getSnapshot()).toMatchObject({ link: 'failed', failure: { stage: 'signaling' } });
    // Given up: nothing more is sent however long it waits.
    vi.advanceTimersByTime(10 * OFFER_TIMEOUT_MS);
    expect(sent).toHaveLength(3);
  });

  it('waits for an away host instead of failing, and asks again when it is back', () => {
    link.receive(joined, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS);
    hostAway = true;
    vi.advanceTimersByTime(5 * OFFER_TIMEOUT_MS);
    expect(requests()).toBe(1);
    expect(state()).toBe('negotiating');
    hostAway = false;
    link.receive({ type: 'user_back', user_id: 'someone-else' } as ServerMessage, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS);
    expect(requests()).toBe(1);
    link.receive(hostBack, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS);
    expect(requests()).toBe(2);
  });

  it('answers the offer with the session ICE servers and stops asking', async () => {
    link.receive(joined, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS);
    link.receive(offer(), 'h');
    await settle();
    const pc = FakePeerConnection.last;
    expect(pc.config.iceServers).toEqual(ICE);
    expect(pc.remoteDescription).toEqual({ type: 'offer', sdp: 'v=0 offer' });
    expect(sent.at(-1)).toEqual({ type: 'webrtc_answer', sdp: { type: 'answer', sdp: 'v=0 answer' } });
    vi.advanceTimersByTime(5 * OFFER_TIMEOUT_MS);
    expect(requests()).toBe(1);
    expect(state()).toBe('negotiating');
  });

  it('passes the host ICE candidates to the current connection', async () => {
    link.receive(joined, 'h');
    link.receive(offer(), 'h');
    await settle();
    link.receive({ type: 'webrtc_ice', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0' }, from_user_id: 'h' }, 'h');
    await settle();
    expect(FakePeerConnection.last.candidates).toHaveLength(1);
  });

  it('reports connected with the path, and keeps a working connection across a resume', async () => {
    await connected();
    expect(link.getSnapshot()).toEqual({ link: 'connected', path: 'direct', failure: null });
    expect(sent.at(-1)).toEqual({ type: 'webrtc_connected', connected: true, path: 'direct' });
    const before = requests();
    link.receive(resumed, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS);
    expect(requests()).toBe(before);
    expect(state()).toBe('connected');
  });

  it('asks afresh on a resume whose connection is gone', async () => {
    const pc = await connected();
    pc.to('failed', 'failed');
    link.stop();
    link.receive(resumed, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS);
    expect(requests()).toBe(2);
  });

  it('says interrupted when a connection drops, and is connected again when it comes back', async () => {
    const pc = await connected();
    pc.to('disconnected', 'disconnected');
    expect(state()).toBe('interrupted');
    pc.to('connected', 'connected');
    await settle();
    expect(state()).toBe('connected');
  });

  it('asks for a new connection at once when a working one fails for good', async () => {
    const pc = await connected();
    pc.to('disconnected', 'disconnected');
    pc.to('failed', 'failed');
    // Still the same interruption while the new one is set up.
    expect(state()).toBe('interrupted');
    vi.advanceTimersByTime(0);
    expect(requests()).toBe(2);
    link.receive(offer(), 'h');
    await settle();
    expect(state()).toBe('interrupted');
    FakePeerConnection.last.to('connected', 'connected');
    await settle();
    expect(state()).toBe('connected');
  });

  it('waits for the host to come back before asking when it failed while the host was away', async () => {
    const pc = await connected();
    hostAway = true;
    pc.to('failed', 'failed');
    vi.advanceTimersByTime(5 * OFFER_TIMEOUT_MS);
    expect(requests()).toBe(1);
    expect(state()).toBe('interrupted');
    hostAway = false;
    link.receive(hostBack, 'h');
    vi.advanceTimersByTime(REQUEST_DELAY_MS);
    expect(requests()).toBe(2);
  });

  it('keeps why a connection that never came up failed', async () => {
    link.receive(joined, 'h');
    link.receive(offer(), 'h');
    await settle();
    FakePeerConnection.last.to('checking', 'connecting');
    FakePeerConnection.last.to('failed', 'failed');
    const { link: l, failure } = link.getSnapshot();
    expect(l).toBe('failed');
    expect(failure?.stage).toBe('ice');
    // A retry clears it and asks at once.
    link.request(0);
    expect(link.getSnapshot()).toMatchObject({ link: 'negotiating', failure: null });
    vi.advanceTimersByTime(0);
    expect(requests()).toBe(1);
  });

  it('reports an offer it cannot read as a signaling failure', async () => {
    link.receive(joined, 'h');
    link.receive(offer(42), 'h');
    await settle();
    expect(sent.at(-1)).toEqual({ type: 'webrtc_connected', connected: false, failed_stage: 'signaling' });
    expect(state()).toBe('failed');
  });

  it('ignores what a replaced connection still reports', async () => {
    link.receive(joined, 'h');
    link.receive(offer(), 'h');
    await settle();
    const old = FakePeerConnection.last;
    link.receive(offer(), 'h');
    await settle();
    expect(FakePeerConnection.all).toHaveLength(2);
    expect(old.connectionState).toBe('closed');
    // The old one was closed, so GuestPeer is silent; and even a late stream is not played.
    old.to('connected', 'connected');
    (old.ontrack as (e: { streams: MediaStream[] }) => void)({ streams: [{} as MediaStream] });
    await settle();
    expect(streams).toEqual([]);
    expect(state()).toBe('negotiating');
  });

  it('plays the stream of the current connection', async () => {
    link.receive(joined, 'h');
    link.receive(offer(), 'h');
    await settle();
    const stream = {} as MediaStream;
    (FakePeerConnection.last.ontrack as (e: { streams: MediaStream[] }) => void)({ streams: [stream] });
    expect(streams).toEqual([stream]);
  });

  it('stops: closes the connection, cancels what was pending and goes idle', async () => {
    const pc = await connected();
    link.receive(hostBack, 'h');
    pc.to('disconnected', 'disconnected');
    link.stop();
    expect(pc.connectionState).toBe('closed');
    expect(state()).toBe('idle');
    const count = sent.length;
    vi.advanceTimersByTime(5 * OFFER_TIMEOUT_MS);
    expect(sent).toHaveLength(count);
  });

  it('tells its subscribers only about real changes', () => {
    link.stop();
    expect(changes).toBe(0);
    link.receive(joined, 'h');
    expect(changes).toBe(1);
    link.request(0);
    expect(changes).toBe(1);
  });
});
