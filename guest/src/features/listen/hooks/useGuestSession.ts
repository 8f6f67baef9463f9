// Everything a guest's session does, for the listen page to render: joining (and rejoining
// after a dropped socket, through the client), asking the host for audio and answering its offer,
// playing the stream, the room state, and one word for where things stand (`GuestState`).
// The peer connection is deliberately independent of the socket: audio keeps playing while the
// relay is unreachable, and a resumed session keeps the connection it had. When the audio drops
// the page says so (`interrupted`) until it recovers, or asks for a new connection once the host
// can answer (the relay drops requests while the host is away).

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useClientStatus, useServerMessages, useSessionClient } from '../../../hooks/useSessionClient';
import { explainFailure, type FailedStage } from '../../../lib/webrtc';
import { errorRule, type JoinRefusal } from '../../../protocol/errors';
import type { ClientMessage, Familiar, IcePath, IceServer, ServerMessage } from '../../../protocol/wire';
import { initialSessionState, sessionReducer } from '../../../room/state';
import { GuestPeer } from '../lib/guestPeer';
import { guestState, wantsAudio, type Link } from '../lib/guestState';
import { useRemoteAudio } from './useRemoteAudio';

export type { GuestState } from '../lib/guestState';

/** Old guest pages wait this long after joining before asking; the host app expects it. */
const REQUEST_DELAY_MS = 500;
/** How long to wait for the host's offer before asking once more, then giving up. */
const OFFER_TIMEOUT_MS = 12_000;
/** A new connection after a drop still counts as the interruption, until it connects. */
const pending = (link: Link): Link => (link === 'interrupted' ? link : 'negotiating');

export function useGuestSession(code: string, turnAvailable: boolean) {
  const client = useSessionClient(`familiar:resume:${code}`);
  const status = useClientStatus(client);
  const audio = useRemoteAudio();
  const [room, dispatch] = useReducer(sessionReducer, initialSessionState);
  const [joining, setJoining] = useState(false);
  const [refusal, setRefusal] = useState<{ reason: JoinRefusal; retryAfterMs?: number } | null>(null);
  const [link, setLink] = useState<Link>('idle');
  const [path, setPath] = useState<IcePath | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const peerRef = useRef<GuestPeer | null>(null);
  const iceServers = useRef<IceServer[]>([]);
  const offerTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const turnRef = useRef(turnAvailable);
  turnRef.current = turnAvailable;
  const hostAway = useRef(false);
  hostAway.current = room.hostAway;

  const send = useCallback((msg: ClientMessage) => void client.send(msg), [client]);

  const closePeer = useCallback(() => {
    clearTimeout(offerTimer.current);
    peerRef.current?.close();
    peerRef.current = null;
  }, []);

  const fail = useCallback((stage: FailedStage, local: Set<string>, remote: Set<string>) => {
    clearTimeout(offerTimer.current);
    setLink('failed');
    setFailure(explainFailure({ stage, localTypes: local, remoteTypes: remote, turnAvailable: turnRef.current }));
  }, []);

  /** No offer came, or it could not be answered: the host's side of the signaling failed. */
  const failSignaling = useCallback(() => {
    send({ type: 'webrtc_connected', connected: false, failed_stage: 'signaling' });
    fail('signaling', new Set(), new Set());
  }, [fail, send]);

  /** Asks the host for an offer (webrtc_request), once more if none comes, then gives up. */
  const requestAudio = useCallback(
    (delayMs: number) => {
      closePeer();
      setLink(pending);
      setFailure(null);
      let tries = 0;
      const ask = () => {
        client.send({ type: 'webrtc_request' });
        offerTimer.current = setTimeout(() => {
          // While the host is away nobody can answer: its `user_back` asks again.
          if (peerRef.current || hostAway.current) return;
          if (tries++ < 1) return ask();
          failSignaling();
        }, OFFER_TIMEOUT_MS);
      };
      offerTimer.current = setTimeout(ask, delayMs);
    },
    [client, closePeer, failSignaling],
  );

  const acceptOffer = (sdp: unknown) => {
    closePeer();
    const peer: GuestPeer = new GuestPeer(iceServers.current, send, {
      onStream: (stream) => peerRef.current === peer && audio.attach(stream),
      onConnected: (p) => {
        if (peerRef.current !== peer) return;
        setLink('connected');
        setPath(p);
      },
      onDisconnected: () => peerRef.current === peer && setLink('interrupted'),
      onFailed: (stage, local, remote, dropped) => {
        if (peerRef.current !== peer) return;
        if (!dropped) return fail(stage, local, remote);
        // It worked until now: ask for a new connection, or wait until the host is back to answer.
        setLink('interrupted');
        if (hostAway.current) closePeer();
        else requestAudio(0);
      },
    });
    peerRef.current = peer;
    setLink(pending);
    peer.acceptOffer(sdp).catch(() => peerRef.current === peer && failSignaling());
  };

  useServerMessages(client, (msg: ServerMessage) => {
    dispatch({ type: 'server', msg, now: Date.now() });
    switch (msg.type) {
      case 'session_joined':
      case 'session_resumed':
        setJoining(false);
        setRefusal(null);
        iceServers.current = msg.ice_servers;
        if (wantsAudio(msg, undefined, peerRef.current)) requestAudio(REQUEST_DELAY_MS);
        break;
      case 'webrtc_offer':
        acceptOffer(msg.sdp);
        break;
      case 'webrtc_ice':
        void peerRef.current?.addRemoteCandidate(msg.candidate);
        break;
      case 'user_back':
        // The host is back: its old connection to us may be gone.
        if (wantsAudio(msg, room.session?.host_id, peerRef.current)) requestAudio(REQUEST_DELAY_MS);
        break;
      case 'error': {
        const { screen: reason, refuses, quiet } = errorRule(msg.code);
        if (reason) {
          // These only ever answer a join (ours, or the client's re-join after a lost resume).
          setJoining(false);
          setRefusal({ reason, ...(msg.retry_after_ms ? { retryAfterMs: msg.retry_after_ms } : {}) });
        } else if (!refuses && !quiet) {
          setNotice(msg.message);
        }
        break;
      }
      default:
        break;
    }
  });

  // Whatever ended the session also ends the audio.
  const over = room.ended !== null || refusal !== null;
  useEffect(() => {
    if (!over) return;
    closePeer();
    audio.stop();
    setLink('idle');
  }, [over, closePeer, audio.stop]);

  useEffect(() => closePeer, [closePeer]);

  /** Call from the Join tap itself: it also unlocks audio playback for later. */
  const join = useCallback(
    (name: string, familiar: Familiar, password: string) => {
      audio.prime();
      setRefusal(null);
      setNotice(null);
      setFailure(null);
      setJoining(true);
      dispatch({ type: 'reset' });
      client.start({
        type: 'join_guest',
        code,
        familiar,
        ...(name ? { guest_name: name } : {}),
        ...(password ? { password } : {}),
      });
    },
    [audio.prime, client, code],
  );

  const leave = useCallback(() => {
    client.leave();
    closePeer();
    audio.stop();
    // The relay answers `left`, but the socket may be down: end here either way.
    dispatch({ type: 'server', msg: { type: 'left' }, now: Date.now() });
  }, [client, closePeer, audio.stop]);

  const retryAudio = useCallback(() => {
    audio.unblock();
    requestAudio(0);
  }, [audio.unblock, requestAudio]);

  const state = guestState(room, status, joining, refusal?.reason, link, audio.playState);

  return {
    state,
    /** True once the person pressed Join: the page shows the session rather than the lookup. */
    active: joining || room.session !== null || room.ended !== null || refusal !== null,
    /** Audio has connected at least once and is still flowing (also while the socket is down). */
    audioLive: link === 'connected' && audio.playState === 'playing',
    room,
    status,
    refusal,
    path,
    failure,
    notice,
    dismissNotice: () => setNotice(null),
    audio,
    join,
    leave,
    retryAudio,
    retryNow: () => client.retryNow(),
    send,
    client,
  };
}

export type GuestSession = ReturnType<typeof useGuestSession>;
