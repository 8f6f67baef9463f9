// Everything the host page does: creating the session (and resuming it after a dropped socket,
// through the client), streaming to each guest on request, sending `playback` once a second while
// playing (and at once on any change), kicking, chat and reactions, and ending the session.

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useClientStatus, useServerMessages, useSessionClient } from '../../../hooks/useSessionClient';
import { UNREACHABLE_AFTER, errorRule } from '../../../protocol/errors';
import type { Familiar, ServerMessage } from '../../../protocol/wire';
import type { ReactionKind } from '../../../room/reactions';
import { initialSessionState, sessionReducer } from '../../../room/state';
import { DEFAULT_BPM, HostAudio, type SourceKind } from '../lib/hostAudio';
import { HostPeers } from '../lib/hostPeers';

export type HostState = 'setup' | 'creating' | 'live' | 'reconnecting' | 'restarting' | 'unreachable';

export interface CreateOptions {
  name: string;
  username: string;
  password: string;
  familiar: Familiar;
  source: SourceKind;
  file: File | null;
  bpm: number | null;
}

export function useHostSession() {
  const client = useSessionClient('familiar:resume:host');
  const status = useClientStatus(client);
  const [room, dispatch] = useReducer(sessionReducer, initialSessionState);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const [source, setSource] = useState<SourceKind>('tone');
  const [bpm, setBpmState] = useState<number | null>(DEFAULT_BPM);
  const audioRef = useRef<HostAudio | null>(null);
  const lastSent = useRef('');
  const bpmRef = useRef(bpm);
  bpmRef.current = bpm;
  const [peers] = useState(
    () => new HostPeers((msg) => void client.send(msg), () => audioRef.current && { stream: audioRef.current.stream, track: audioRef.current.track }),
  );

  /** Sends playback when playing (a heartbeat of position) or when anything changed. */
  const sendPlayback = useCallback(
    (force: boolean) => {
      const audio = audioRef.current;
      if (!audio) return;
      const meta = audio.meta(bpmRef.current);
      const msg = {
        type: 'playback' as const,
        track_id: audio.trackId(),
        is_playing: audio.isPlaying,
        position_ms: Math.round(audio.positionMs()),
        track_meta: meta,
      };
      const key = JSON.stringify([msg.track_id, msg.is_playing, meta]);
      if (!force && !msg.is_playing && key === lastSent.current) return;
      if (client.send(msg)) lastSent.current = key;
    },
    [client],
  );

  useServerMessages(client, (msg: ServerMessage) => {
    dispatch({ type: 'server', msg, now: Date.now() });
    switch (msg.type) {
      case 'session_created':
      case 'session_resumed':
        setCreating(false);
        peers.iceServers = msg.ice_servers;
        sendPlayback(true);
        break;
      case 'webrtc_create_offer':
        peers.offer(msg.target_user_id).catch(() => peers.close(msg.target_user_id));
        break;
      case 'webrtc_answer':
        void peers.answer(msg.from_user_id, msg.sdp).catch(() => {});
        break;
      case 'webrtc_ice':
        void peers.ice(msg.from_user_id, msg.candidate);
        break;
      case 'user_left':
        peers.close(msg.user_id);
        break;
      case 'error':
        setCreating(false);
        if (!errorRule(msg.code).quiet) setNotice(msg.message);
        break;
      default:
        break;
    }
  });

  const live = room.session !== null && room.ended === null;
  useEffect(() => {
    if (!live) return;
    const id = setInterval(() => sendPlayback(false), 1000);
    return () => clearInterval(id);
  }, [live, sendPlayback]);

  useEffect(
    () => () => {
      peers.closeAll();
      audioRef.current?.close();
    },
    [peers],
  );

  const audio = (): HostAudio => {
    if (!audioRef.current) {
      const a = new HostAudio();
      a.onEnded = () => {
        setPlaying(false);
        sendPlayback(true);
      };
      audioRef.current = a;
    }
    return audioRef.current;
  };

  const play = async (a: HostAudio) => {
    try {
      await a.play();
    } catch {
      setNotice("This file can't be played here; try another one or the test tone.");
    }
    setPlaying(a.isPlaying);
    sendPlayback(true);
  };

  /** Call from the Start tap itself, so the AudioContext is allowed to run. */
  const create = (opts: CreateOptions) => {
    const a = audio();
    setBpmState(opts.bpm);
    bpmRef.current = opts.bpm;
    if (opts.source === 'file' && opts.file) a.useFile(opts.file);
    else a.useTone(opts.bpm);
    setSource(a.kind);
    void play(a);
    setNotice(null);
    setCreating(true);
    dispatch({ type: 'reset' });
    client.start({
      type: 'create',
      familiar: opts.familiar,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.password ? { password: opts.password } : {}),
    });
  };

  const togglePlay = () => {
    const a = audioRef.current;
    if (!a) return;
    if (a.isPlaying) {
      a.pause();
      setPlaying(false);
      sendPlayback(true);
    } else {
      void play(a);
    }
  };

  const chooseTone = () => {
    const a = audio();
    a.useTone(bpmRef.current);
    setSource('tone');
    void play(a);
  };

  const chooseFile = (file: File) => {
    const a = audio();
    a.useFile(file);
    setSource('file');
    void play(a);
  };

  const setBpm = (value: number | null) => {
    setBpmState(value);
    bpmRef.current = value;
    if (audioRef.current?.kind === 'tone') audioRef.current.setTempo(value);
    sendPlayback(true);
  };

  const end = () => {
    client.leave();
    peers.closeAll();
    audioRef.current?.pause();
    setPlaying(false);
    setCreating(false);
    dispatch({ type: 'reset' });
  };

  const level = useCallback(() => audioRef.current?.level() ?? 0, []);

  let state: HostState;
  if (!room.session) {
    state = !creating ? 'setup' : status.failures >= UNREACHABLE_AFTER ? 'unreachable' : 'creating';
  } else if (status.restarting) state = 'restarting';
  else if (status.state !== 'open' || !status.inSession) {
    state = status.failures >= UNREACHABLE_AFTER ? 'unreachable' : 'reconnecting';
  } else state = 'live';

  return {
    state,
    room,
    status,
    notice,
    dismissNotice: () => setNotice(null),
    playing,
    source,
    bpm,
    create,
    togglePlay,
    chooseTone,
    chooseFile,
    setBpm,
    end,
    kick: (userId: string) => void client.send({ type: 'kick', target_user_id: userId }),
    /** False when the socket is down: the composer keeps the text. */
    chat: (message: string) => client.send({ type: 'chat', message }),
    react: (kind: ReactionKind) => void client.send({ type: 'reaction', kind }),
    level,
    position: () => audioRef.current?.positionMs() ?? 0,
  };
}

export type HostSession = ReturnType<typeof useHostSession>;
