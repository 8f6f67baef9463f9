// Plays the host's stream on this device: one <audio> element (primed inside the Join tap so iOS
// lets it play later), an AnalyserNode on the same stream for the level meter and the test hook,
// volume and mute (remembered), the "blocked by autoplay" state that asks for a tap, and a restart
// when the page comes back to the foreground (iOS pauses the element and suspends the context in
// the background).

import { useCallback, useEffect, useRef, useState } from 'react';
import { SILENT_WAV, analyserLevel, newAudioContext } from '../../../lib/audio';
import { prefs } from '../../../lib/prefs';
import type { PlayState } from '../lib/guestState';

export function useRemoteAudio() {
  const elRef = useRef<HTMLAudioElement | null>(null);
  const ctxRef = useRef<AudioContext | null>(null);
  const analyserRef = useRef<AnalyserNode | null>(null);
  const sourceRef = useRef<MediaStreamAudioSourceNode | null>(null);
  const bufferRef = useRef<Float32Array<ArrayBuffer> | null>(null);
  const [playState, setPlayState] = useState<PlayState>('idle');
  const [volume, setVolumeState] = useState(prefs.volume);
  const [muted, setMuted] = useState(false);

  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    el.volume = volume;
    el.muted = muted;
  }, [volume, muted]);

  useEffect(
    () => () => {
      void ctxRef.current?.close().catch(() => {});
    },
    [],
  );

  const wake = useCallback((): AudioContext | null => {
    ctxRef.current ??= newAudioContext();
    void ctxRef.current?.resume().catch(() => {});
    return ctxRef.current;
  }, []);

  const playNow = useCallback(() => {
    const el = elRef.current;
    if (!el) return;
    el.play().then(
      () => setPlayState('playing'),
      (e: unknown) => {
        // Only the autoplay policy needs the person; other errors resolve when media arrives.
        if (e instanceof DOMException && e.name === 'NotAllowedError') setPlayState('blocked');
      },
    );
  }, []);

  /** Call inside the Join tap: unlocks the element and the AudioContext for later playback. */
  const prime = useCallback(() => {
    wake();
    const el = elRef.current;
    if (!el || el.srcObject) return;
    el.src = SILENT_WAV;
    void el.play().catch(() => {});
  }, [wake]);

  const attach = useCallback(
    (stream: MediaStream) => {
      const el = elRef.current;
      if (!el) return;
      el.srcObject = stream;
      const ctx = ctxRef.current;
      if (ctx) {
        sourceRef.current?.disconnect();
        const source = ctx.createMediaStreamSource(stream);
        const analyser = (analyserRef.current ??= ctx.createAnalyser());
        analyser.fftSize = 1024;
        // Analysed only: the element plays the sound (Chrome's WebAudio hears a remote stream
        // only while an element plays it, and the element keeps volume and mute simple).
        source.connect(analyser);
        sourceRef.current = source;
      }
      playNow();
    },
    [playNow],
  );

  /** The "Tap to start audio" button. */
  const unblock = useCallback(() => {
    wake();
    playNow();
  }, [wake, playNow]);

  // Back from the background: play again what is still attached (a no-op when it never stopped).
  useEffect(() => {
    const back = () => {
      if (!document.hidden && elRef.current?.srcObject) unblock();
    };
    document.addEventListener('visibilitychange', back);
    return () => document.removeEventListener('visibilitychange', back);
  }, [unblock]);

  const stop = useCallback(() => {
    const el = elRef.current;
    if (el) {
      el.pause();
      el.srcObject = null;
    }
    sourceRef.current?.disconnect();
    sourceRef.current = null;
    setPlayState('idle');
  }, []);

  const level = useCallback((): number => {
    const analyser = analyserRef.current;
    if (!analyser || !sourceRef.current) return 0;
    const buffer = (bufferRef.current ??= new Float32Array(analyser.fftSize));
    return analyserLevel(analyser, buffer);
  }, []);

  const setVolume = useCallback((v: number) => {
    setVolumeState(v);
    prefs.setVolume(v);
    if (v > 0) setMuted(false);
  }, []);

  return { elRef, playState, volume, setVolume, muted, setMuted, prime, attach, unblock, stop, level };
}

export type RemoteAudio = ReturnType<typeof useRemoteAudio>;
