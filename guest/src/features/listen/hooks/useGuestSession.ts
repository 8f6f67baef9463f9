// Everything a guest's session does, for the listen page to render: joining (and rejoining
// after a dropped socket, through the client), the audio link (asking the host for audio and
// answering its offer: `GuestLink`), playing the stream, the room state, and one word for where
// things stand (`GuestState`). When the audio drops the page says so (`interrupted`) until it
// recovers, or until the link asks for a new connection once the host can answer. The cover of
// what plays arrives over the audio connection (when the host sends one).

import { useCallback, useEffect, useReducer, useRef, useState, useSyncExternalStore } from 'react';
import { useClientStatus, useServerMessages, useSessionClient } from '../../../hooks/useSessionClient';
import type { CoverMessage } from '../../../lib/coverChannel';
import { explainFailure } from '../../../lib/webrtc';
import { errorRule, type JoinRefusal } from '../../../protocol/errors';
import type { Familiar, ServerMessage } from '../../../protocol/wire';
import type { ReactionKind } from '../../../room/reactions';
import { initialSessionState, sessionReducer } from '../../../room/state';
import { GuestLink } from '../lib/guestLink';
import { guestState } from '../lib/guestState';
import { useRemoteAudio } from './useRemoteAudio';

export type { GuestState } from '../lib/guestState';

export function useGuestSession(code: string, turnAvailable: boolean) {
  const client = useSessionClient(`familiar:resume:${code}`, { code });
  const status = useClientStatus(client);
  const audio = useRemoteAudio();
  const [room, dispatch] = useReducer(sessionReducer, initialSessionState);
  const [joining, setJoining] = useState(false);
  const [refusal, setRefusal] = useState<JoinRefusal | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [cover, setCover] = useState<CoverMessage | null>(null);
  const hostAway = useRef(false);
  hostAway.current = room.hostAway;
  const [link] = useState(
    () =>
      new GuestLink({
        send: (msg) => void client.send(msg),
        onStream: audio.attach,
        onCover: setCover,
        hostAway: () => hostAway.current,
      }),
  );
  const { link: linkState, path, failure } = useSyncExternalStore(link.subscribe, link.getSnapshot);

  useServerMessages(client, (msg: ServerMessage) => {
    dispatch({ type: 'server', msg, now: Date.now() });
    link.receive(msg, room.session?.host_id);
    switch (msg.type) {
      case 'session_joined':
      case 'session_resumed':
        setJoining(false);
        setRefusal(null);
        break;
      case 'error': {
        const { screen, refuses, quiet } = errorRule(msg.code);
        if (screen) {
          // These only ever answer a join (ours, or the client's re-join after a lost resume).
          setJoining(false);
          setRefusal(screen);
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
    link.stop();
    audio.stop();
  }, [over, link, audio.stop]);

  useEffect(() => () => link.stop(), [link]);

  /** Call from the Join tap itself: it also unlocks audio playback for later. */
  const join = useCallback(
    (name: string, familiar: Familiar, password: string) => {
      audio.prime();
      setRefusal(null);
      setNotice(null);
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
    link.stop();
    audio.stop();
    // The relay answers `left`, but the socket may be down: end here either way.
    dispatch({ type: 'server', msg: { type: 'left' }, now: Date.now() });
  }, [client, link, audio.stop]);

  const retryAudio = useCallback(() => {
    audio.unblock();
    link.request(0);
  }, [audio.unblock, link]);

  const state = guestState(room, status, joining, refusal, linkState, audio.playState);

  return {
    state,
    /** True once the person pressed Join: the page shows the session rather than the lookup. */
    active: joining || room.session !== null || room.ended !== null || refusal !== null,
    /** Audio has connected at least once and is still flowing (also while the socket is down). */
    audioLive: linkState === 'connected' && audio.playState === 'playing',
    room,
    status,
    path,
    failure: failure && explainFailure({ ...failure, turnAvailable }),
    /** The cover of the track playing now (a JPEG data: URL), if the host sent one. */
    cover: cover && cover.track_id === room.playback.trackId ? cover.jpeg : null,
    notice,
    dismissNotice: () => setNotice(null),
    audio,
    join,
    leave,
    retryAudio,
    retryNow: () => client.retryNow(),
    /** False when the socket is down: the composer keeps the text. */
    chat: (message: string) => client.chat(message),
    react: (kind: ReactionKind) => void client.react(kind),
  };
}

export type GuestSession = ReturnType<typeof useGuestSession>;
