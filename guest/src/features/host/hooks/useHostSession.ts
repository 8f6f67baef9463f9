// Everything the host page does: creating the session (and resuming it after a dropped socket or
// a reload of the tab, through the client), streaming to each guest on request, sending
// `playback` (with `up_next`) once a second while playing and at once on any change, cover art
// over each guest's data channel, the sources (tone, queue, tab, input) and the queue's controls,
// kicking, chat and reactions, and ending the session.

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useClientStatus, useServerMessages, useSessionClient } from '../../../hooks/useSessionClient';
import { UNREACHABLE_AFTER, errorRule } from '../../../protocol/errors';
import type { PlaybackMessage } from '../../../protocol/upNext';
import type { Familiar, ServerMessage } from '../../../protocol/wire';
import type { ReactionKind } from '../../../room/reactions';
import { initialSessionState, sessionReducer } from '../../../room/state';
import { DEFAULT_BPM, HostAudio, type LiveKind, type SourceKind } from '../lib/hostAudio';
import { HostPeers } from '../lib/hostPeers';
import { HOST_TOKEN_KEY, clearSetup, loadSetup, newTabId, saveSetup, type SavedSetup } from '../lib/hostResume';
import { QueueStore, forgetStaleTabs } from '../lib/queueStore';
import type { Repeat } from '../lib/queue';

export type HostState = 'setup' | 'creating' | 'resuming' | 'live' | 'reconnecting' | 'restarting' | 'unreachable';

export interface CreateOptions {
  name: string;
  username: string;
  password: string;
  familiar: Familiar;
  source: SourceKind;
  files: File[];
  bpm: number | null;
}

/** What the browser offers here: tab or screen audio, and an input device. */
export const canCaptureTab = () => typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getDisplayMedia;
export const canUseInput = () => typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;

/** Asks for a live source; call inside a tap (the browsers require one for both). */
async function captureLive(kind: LiveKind): Promise<MediaStream> {
  if (kind === 'mic') {
    // Music, not a call: the voice processing that helps a call flattens and pumps music.
    return navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  }
  // Chromium only offers audio with video; the video track is stopped at once.
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
  for (const t of stream.getVideoTracks()) t.stop();
  if (stream.getAudioTracks().length === 0) throw new Error('no-audio');
  return stream;
}

function liveProblem(kind: LiveKind, e: unknown): string {
  const name = e instanceof Error ? e.name : '';
  if (kind === 'tab') {
    if (e instanceof Error && e.message === 'no-audio') return 'That choice shares no sound: pick a tab and turn on “Share tab audio”.';
    return name === 'NotAllowedError' ? 'Sharing was cancelled or not allowed.' : 'This browser could not share a tab’s audio.';
  }
  if (name === 'NotAllowedError') return 'The microphone was not allowed; check the browser’s permission for this site.';
  if (name === 'NotFoundError') return 'No microphone or line-in was found.';
  return 'The input could not be opened.';
}

export function useHostSession() {
  const client = useSessionClient(HOST_TOKEN_KEY, { leaveOnPageHide: false });
  const status = useClientStatus(client);
  const [room, dispatch] = useReducer(sessionReducer, initialSessionState);
  // A reload of a tab that was hosting: resume that session rather than show the setup form.
  const [saved] = useState<SavedSetup | null>(() => loadSetup());
  const [creating, setCreating] = useState(saved !== null);
  /** After a reload, until the host taps "Resume playing" (browsers want a tap to play again). */
  const [needsResume, setNeedsResume] = useState(saved !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const [, setVersion] = useState(0);
  const [bpm, setBpmState] = useState<number | null>(saved?.bpm ?? DEFAULT_BPM);
  const [lastSource, setLastSource] = useState<SourceKind>(saved?.source ?? 'tone');
  const audioRef = useRef<HostAudio | null>(null);
  const lastSent = useRef('');
  const bpmRef = useRef(bpm);
  bpmRef.current = bpm;
  const setupRef = useRef<SavedSetup | null>(saved);
  const storeRef = useRef<QueueStore | null>(saved ? new QueueStore(saved.tab) : null);
  const [peers] = useState(
    () => new HostPeers((msg) => void client.send(msg), () => audioRef.current && { stream: audioRef.current.stream, track: audioRef.current.track }),
  );

  /** Sends playback when playing (a heartbeat of position) or when anything changed. */
  const sendPlayback = useCallback(
    (force: boolean) => {
      const audio = audioRef.current;
      if (!audio) return;
      const meta = audio.meta(bpmRef.current);
      const upNext = audio.upNext();
      const msg: PlaybackMessage = {
        type: 'playback',
        track_id: audio.trackId(),
        is_playing: audio.isPlaying,
        position_ms: Math.round(audio.positionMs()),
        track_meta: meta,
        up_next: upNext,
      };
      const key = JSON.stringify([msg.track_id, msg.is_playing, meta, upNext]);
      if (!force && !msg.is_playing && key === lastSent.current) return;
      if (client.send(msg)) lastSent.current = key;
      peers.setCover({ track_id: msg.track_id ?? '', jpeg: audio.cover() });
    },
    [client, peers],
  );

  /** Keeps the queue for a reload of this tab (files once each, the rest on every call). */
  const saveQueue = useCallback(() => {
    const a = audioRef.current;
    const store = storeRef.current;
    // An emptied queue is saved too (else a reload would bring back what was removed).
    if (!a || !store || (a.queue.items.length === 0 && a.kind !== 'queue')) return;
    const { items, current, repeat, shuffle, nextAdded } = a.queue;
    void store.save(
      { items: items.map(({ id, added }) => ({ id, added })), current, repeat, shuffle, nextAdded, positionMs: a.kind === 'queue' ? a.positionMs() : 0 },
      a.queueFiles(),
    );
  }, []);

  useServerMessages(client, (msg: ServerMessage) => {
    dispatch({ type: 'server', msg, now: Date.now() });
    switch (msg.type) {
      case 'session_created':
      case 'session_resumed':
        // A reloaded tab whose session was gone meanwhile: the client created a new one.
        if (msg.type === 'session_created' && saved && needsResume && room.session === null) {
          setNotice('Your earlier session had ended, so this is a new one with a new code: share it again.');
        }
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
        if (errorRule(msg.code).refuses) setCreating(false);
        if (!errorRule(msg.code).quiet) setNotice(msg.message);
        break;
      default:
        break;
    }
  });

  const live = room.session !== null && room.ended === null;
  useEffect(() => {
    if (!live) return;
    const id = setInterval(() => {
      sendPlayback(false);
      saveQueue();
    }, 1000);
    return () => clearInterval(id);
  }, [live, sendPlayback, saveQueue]);

  /** The audio graph, made on first use (inside a tap, so its context may run). */
  const audio = useCallback((): HostAudio => {
    if (!audioRef.current) {
      const a = new HostAudio();
      a.onChange = () => {
        setVersion((v) => v + 1);
        sendPlayback(true);
        saveQueue();
      };
      a.onProblem = setNotice;
      audioRef.current = a;
    }
    return audioRef.current;
  }, [sendPlayback, saveQueue]);

  useEffect(() => {
    // Resuming after a reload: the guests' offers need the outgoing track before the host taps,
    // so the graph exists at once (silent until "Resume playing" lets its context run).
    if (saved) {
      let a: HostAudio | null = null;
      try {
        a = audio();
      } catch {
        // No Web Audio: the setup form says so when the host tries again.
      }
      client.start(saved.intent);
      // The queue comes back paused where it was; "Resume playing" carries on from there.
      void storeRef.current?.load().then((stored) => {
        if (stored && a && a.queue.items.length === 0 && !a.isPlaying) a.restoreQueue(stored.queue, stored.files);
      });
    } else void forgetStaleTabs();
    return () => {
      peers.closeAll();
      audioRef.current?.close();
    };
    // Once per page: `saved` is read at mount.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [peers]);

  const remember = (source: SourceKind) => {
    setLastSource(source);
    if (setupRef.current) {
      setupRef.current = { ...setupRef.current, source, bpm: bpmRef.current };
      saveSetup(setupRef.current);
    }
  };

  const play = async (a: HostAudio) => {
    await a.play();
    sendPlayback(true);
  };

  /** Switches to a source (inside the tap that chose it) and plays it. */
  const choose = async (source: SourceKind, files: File[] = []): Promise<boolean> => {
    const a = audio();
    void a.ctx.resume();
    setNeedsResume(false);
    if (source === 'tab' || source === 'mic') {
      try {
        a.useLive(source, await captureLive(source));
      } catch (e) {
        setNotice(liveProblem(source, e));
        return false;
      }
    } else if (source === 'queue') {
      if (files.length) a.addFiles(files);
      if (a.kind !== 'queue') await a.prepareQueue();
      a.useQueue();
      await play(a);
    } else {
      a.useTone(bpmRef.current);
      await play(a);
    }
    remember(source);
    setNotice(null);
    return true;
  };

  /** Call from the Start tap itself, so the AudioContext (and any capture) is allowed. */
  const create = (opts: CreateOptions) => {
    setBpmState(opts.bpm);
    bpmRef.current = opts.bpm;
    setNotice(null);
    setCreating(true);
    setNeedsResume(false);
    dispatch({ type: 'reset' });
    const intent = {
      type: 'create' as const,
      familiar: opts.familiar,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.password ? { password: opts.password } : {}),
    };
    setupRef.current = { tab: newTabId(), intent, source: opts.source, bpm: opts.bpm };
    storeRef.current = new QueueStore(setupRef.current.tab);
    saveSetup(setupRef.current);
    void choose(opts.source, opts.files).then((ok) => {
      // A live source refused: the session runs with the tone until another is picked.
      if (!ok) void choose('tone');
    });
    client.start(intent);
  };

  /** After a reload: the tap that lets the audio run again, with the source the tab had. */
  const resumePlaying = () => {
    const a = audio();
    void a.ctx.resume();
    // Files need choosing again unless the queue came back with the tab.
    const source = lastSource === 'queue' && a.queue.items.length === 0 ? 'tone' : lastSource;
    void choose(source).then((ok) => {
      if (!ok) void choose('tone');
    });
  };

  const togglePlay = () => {
    const a = audioRef.current;
    if (!a) return;
    setNeedsResume(false);
    if (a.isPlaying) {
      a.pause();
      sendPlayback(true);
    } else void play(a);
  };

  const setBpm = (value: number | null) => {
    setBpmState(value);
    bpmRef.current = value;
    if (audioRef.current?.kind === 'tone') audioRef.current.setTempo(value);
    if (setupRef.current) saveSetup({ ...setupRef.current, bpm: value });
    sendPlayback(true);
  };

  const end = () => {
    client.leave();
    clearSetup();
    void storeRef.current?.clear();
    storeRef.current = null;
    setupRef.current = null;
    peers.closeAll();
    audioRef.current?.pause();
    setCreating(false);
    setNeedsResume(false);
    dispatch({ type: 'reset' });
  };

  const level = useCallback(() => audioRef.current?.level() ?? 0, []);
  /** Queue actions, each a no-op before the audio exists. */
  const onQueue = <A extends unknown[]>(fn: (a: HostAudio, ...args: A) => void) => (...args: A) => {
    const a = audioRef.current;
    if (a) fn(a, ...args);
  };

  let state: HostState;
  if (!room.session) {
    if (!creating) state = 'setup';
    else if (status.failures >= UNREACHABLE_AFTER) state = 'unreachable';
    else state = saved && needsResume ? 'resuming' : 'creating';
  } else if (status.restarting) state = 'restarting';
  else if (status.state !== 'open' || !status.inSession) {
    state = status.failures >= UNREACHABLE_AFTER ? 'unreachable' : 'reconnecting';
  } else state = 'live';

  const a = audioRef.current;
  return {
    state,
    room,
    status,
    notice,
    dismissNotice: () => setNotice(null),
    needsResume,
    resumePlaying,
    playing: a?.isPlaying ?? false,
    source: a?.kind ?? lastSource,
    queue: a?.queue ?? null,
    currentTitle: a?.meta(null).title ?? null,
    bpm,
    create,
    togglePlay,
    choose: (source: SourceKind) => void choose(source),
    addFiles: (files: File[]) => void choose('queue', files),
    skip: onQueue((x) => x.skip()),
    previous: onQueue((x) => x.previous()),
    jump: onQueue((x, id: string) => x.jump(id)),
    remove: onQueue((x, id: string) => x.remove(id)),
    move: onQueue((x, id: string, to: number) => x.move(id, to)),
    setRepeat: onQueue((x, repeat: Repeat) => x.setRepeat(repeat)),
    setShuffle: onQueue((x, on: boolean) => x.setShuffle(on)),
    setBpm,
    end,
    kick: (userId: string) => void client.send({ type: 'kick', target_user_id: userId }),
    /** False when the socket is down: the composer keeps the text. */
    chat: (message: string) => client.chat(message),
    react: (kind: ReactionKind) => void client.react(kind),
    level,
    position: () => audioRef.current?.positionMs() ?? 0,
  };
}

export type HostSession = ReturnType<typeof useHostSession>;
