// Everything a guest's session does, for the listen page to render: joining (and rejoining
// after a dropped socket, through the client), asking the host for audio and answering its offer,
// playing the stream, the room state, and one word for where things stand (`GuestState`).
// The peer connection is deliberately independent of the socket: audio keeps playing while the
// relay is unreachable, and a resumed session keeps the connection it had.

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useClientStatus, useServerMessages, useSessionClient } from '../../../hooks/useSessionClient';
import { explainFailure, type FailedStage } from '../../../lib/webrtc';
import type { ClientMessage, Familiar, IcePath, IceServer, ServerMessage } from '../../../protocol/wire';
import { initialSessionState, sessionReducer, type EndReason } from '../../session/state';
import { GuestPeer } from '../lib/guestPeer';
import { useRemoteAudio } from './useRemoteAudio';

/** Old guest pages wait this long after joining before asking; the host app expects it. */
const REQUEST_DELAY_MS = 500;
/** How long to wait for the host's offer before asking once more, then giving up. */
const OFFER_TIMEOUT_MS = 12_000;
/** Connection attempts in a row before the page says the relay is unreachable. */
export const UNREACHABLE_AFTER = 3;

export type JoinRefusal = 'wrong_password' | 'session_full' | 'server_full' | 'not_found' | 'throttled' | 'kicked';

export type GuestState =
  | 'ready'
  | 'joining'
  | 'negotiating'
  | 'starting'
  | 'blocked'
  | 'connected'
  | 'ice_failed'
  | 'reconnecting'
  | 'restarting'
  | 'unreachable'
  | JoinRefusal
  | EndReason;

const REFUSALS: Partial<Record<string, JoinRefusal>> = {
  invalid_password: 'wrong_password',
  session_full: 'session_full',
  server_full: 'server_full',
  session_not_found: 'not_found',
  join_throttled: 'throttled',
  // A kicked guest trying to come back (by reload or rejoin) stays out.
  kicked: 'kicked',
};

/** Handled by the client itself (resume fallbacks): nothing to tell the person. */
const QUIET_ERRORS = new Set(['invalid_token', 'token_expired', 'host_not_back', 'already_in_session']);

export function useGuestSession(code: string, turnAvailable: boolean) {
  const client = useSessionClient(`familiar:resume:${code}`);
  const status = useClientStatus(client);
  const audio = useRemoteAudio();
  const [room, dispatch] = useReducer(sessionReducer, initialSessionState);
  const [joining, setJoining] = useState(false);
  const [refusal, setRefusal] = useState<{ reason: JoinRefusal; retryAfterMs?: number } | null>(null);
  const [link, setLink] = useState<'idle' | 'negotiating' | 'connected' | 'failed'>('idle');
  const [path, setPath] = useState<IcePath | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const peerRef = useRef<GuestPeer | null>(null);
  const iceServers = useRef<IceServer[]>([]);
  const offerTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const turnRef = useRef(turnAvailable);
  turnRef.current = turnAvailable;

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

  /** Asks the host for an offer (webrtc_request), once more if none comes, then gives up. */
  const requestAudio = useCallback(
    (delayMs: number) => {
      closePeer();
      setLink('negotiating');
      setFailure(null);
      let tries = 0;
      const ask = () => {
        client.send({ type: 'webrtc_request' });
        offerTimer.current = setTimeout(() => {
          if (peerRef.current) return;
          if (tries++ < 1) return ask();
          send({ type: 'webrtc_connected', connected: false, failed_stage: 'signaling' });
          fail('signaling', new Set(), new Set());
        }, OFFER_TIMEOUT_MS);
      };
      offerTimer.current = setTimeout(ask, delayMs);
    },
    [client, closePeer, fail, send],
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
      onDisconnected: () => peerRef.current === peer && setLink('negotiating'),
      onFailed: (stage, local, remote) => peerRef.current === peer && fail(stage, local, remote),
    });
    peerRef.current = peer;
    setLink('negotiating');
    peer.acceptOffer(sdp).catch(() => {
      if (peerRef.current !== peer) return;
      send({ type: 'webrtc_connected', connected: false, failed_stage: 'signaling' });
      fail('signaling', new Set(), new Set());
    });
  };

  useServerMessages(client, (msg: ServerMessage) => {
    dispatch({ type: 'server', msg, now: Date.now() });
    switch (msg.type) {
      case 'session_joined':
      case 'session_resumed':
        setJoining(false);
        setRefusal(null);
        iceServers.current = msg.ice_servers;
        // A resumed session keeps a connection that still works; a new membership needs a new one.
        if (msg.type === 'session_joined' || !peerRef.current?.isLive) requestAudio(REQUEST_DELAY_MS);
        break;
      case 'webrtc_offer':
        acceptOffer(msg.sdp);
        break;
      case 'webrtc_ice':
        void peerRef.current?.addRemoteCandidate(msg.candidate);
        break;
      case 'user_back':
        // The host is back (e.g. reloaded its page): its old connection to us may be gone.
        if (msg.user_id === room.session?.host_id && !peerRef.current?.isConnected) requestAudio(REQUEST_DELAY_MS);
        break;
      case 'error': {
        const reason = REFUSALS[msg.code];
        if (reason) {
          // These only ever answer a join (ours, or the client's re-join after a lost resume).
          setJoining(false);
          setRefusal({ reason, ...(msg.retry_after_ms ? { retryAfterMs: msg.retry_after_ms } : {}) });
        } else if (!QUIET_ERRORS.has(msg.code)) {
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

  let state: GuestState;
  if (room.ended) state = room.ended;
  else if (refusal) state = refusal.reason;
  else if (!room.session) {
    state = !joining ? 'ready' : status.failures >= UNREACHABLE_AFTER ? 'unreachable' : 'joining';
  } else if (status.restarting) state = 'restarting';
  else if (status.state !== 'open' || !status.inSession) {
    state = status.failures >= UNREACHABLE_AFTER ? 'unreachable' : 'reconnecting';
  } else if (link === 'failed') state = 'ice_failed';
  else if (audio.playState === 'blocked') state = 'blocked';
  else if (link === 'connected') state = audio.playState === 'playing' ? 'connected' : 'starting';
  else state = 'negotiating';

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
