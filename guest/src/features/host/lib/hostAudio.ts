// The host page's audio: one WebAudio graph whose MediaStreamDestination track is what every
// guest receives. Its source is a built-in test tone (a chord that pulses on the beat, so
// guests' meters and familiars visibly move) or a local audio file; switching sources keeps the
// same outgoing track, so no connection needs renegotiating.

import { analyserLevel, newAudioContext } from '../../../lib/audio';
import type { TrackMeta } from '../../../protocol/wire';

export type SourceKind = 'tone' | 'file';

/** A major chord (A3, C#4, E4): pleasant enough to listen to for a minute. */
const TONE_HZ = [220, 277.18, 329.63];
export const DEFAULT_BPM = 96;

/** "Artist - Title.mp3" → {artist, title}; otherwise the file name is the title. */
export function metaFromFileName(name: string): TrackMeta {
  const base = name.replace(/\.[a-z0-9]{1,5}$/i, '').replace(/_/g, ' ').trim() || 'Untitled';
  const parts = base.split(' - ');
  if (parts.length >= 2 && parts[0]) return { artist: parts[0].trim(), title: parts.slice(1).join(' - ').trim() };
  return { title: base };
}

export class HostAudio {
  readonly ctx: AudioContext;
  readonly #dest: MediaStreamAudioDestinationNode;
  readonly #bus: GainNode;
  readonly #monitor: GainNode;
  readonly #analyser: AnalyserNode;
  readonly #buffer: Float32Array<ArrayBuffer>;
  #tone: { out: GainNode; lfo: OscillatorNode } | null = null;
  #element: HTMLAudioElement | null = null;
  #objectUrl: string | null = null;
  #toneOffsetMs = 0;
  #toneStartedAt: number | null = null;
  #serial = 1;
  kind: SourceKind = 'tone';
  fileMeta: TrackMeta = { title: 'Untitled' };
  /** Called when a file plays to its end, so the page can tell the guests it stopped. */
  onEnded: (() => void) | null = null;

  /** Construct inside a click: the AudioContext then starts running. */
  constructor() {
    const ctx = newAudioContext();
    if (!ctx) throw new Error('This browser has no Web Audio');
    this.ctx = ctx;
    this.#dest = ctx.createMediaStreamDestination();
    this.#bus = ctx.createGain();
    this.#analyser = ctx.createAnalyser();
    this.#analyser.fftSize = 1024;
    this.#buffer = new Float32Array(this.#analyser.fftSize);
    this.#monitor = ctx.createGain();
    this.#bus.connect(this.#dest);
    this.#bus.connect(this.#analyser);
    this.#bus.connect(this.#monitor);
    this.#monitor.connect(ctx.destination);
    void ctx.resume();
  }

  get stream(): MediaStream {
    return this.#dest.stream;
  }

  get track(): MediaStreamTrack | null {
    return this.#dest.stream.getAudioTracks()[0] ?? null;
  }

  useTone(bpm: number | null): void {
    this.pause();
    // The host hears a file it plays, but not the test tone (it would only echo the guests').
    this.#monitor.gain.value = 0;
    this.kind = 'tone';
    this.#serial += 1;
    this.#toneOffsetMs = 0;
    this.setTempo(bpm);
  }

  /** The tone pulses at the tempo the page announces, so the familiars' sway matches it. */
  setTempo(bpm: number | null): void {
    const tone = this.#ensureTone();
    tone.lfo.frequency.value = (bpm && bpm > 0 ? bpm : DEFAULT_BPM) / 60;
  }

  useFile(file: File): void {
    this.pause();
    if (!this.#element) {
      this.#element = new Audio();
      this.#element.onended = () => this.onEnded?.();
      this.ctx.createMediaElementSource(this.#element).connect(this.#bus);
    }
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    this.#objectUrl = URL.createObjectURL(file);
    this.#element.src = this.#objectUrl;
    this.#monitor.gain.value = 1;
    this.kind = 'file';
    this.fileMeta = metaFromFileName(file.name);
    this.#serial += 1;
  }

  async play(): Promise<void> {
    void this.ctx.resume();
    if (this.kind === 'tone') {
      this.#ensureTone().out.gain.setTargetAtTime(1, this.ctx.currentTime, 0.02);
      this.#toneStartedAt ??= performance.now();
    } else {
      await this.#element?.play();
    }
  }

  pause(): void {
    if (this.#tone) this.#tone.out.gain.setTargetAtTime(0, this.ctx.currentTime, 0.02);
    if (this.#toneStartedAt !== null) {
      this.#toneOffsetMs += performance.now() - this.#toneStartedAt;
      this.#toneStartedAt = null;
    }
    this.#element?.pause();
  }

  get isPlaying(): boolean {
    if (this.kind === 'tone') return this.#toneStartedAt !== null;
    return !!this.#element && !this.#element.paused && !this.#element.ended;
  }

  positionMs(): number {
    if (this.kind === 'file') return (this.#element?.currentTime ?? 0) * 1000;
    return this.#toneOffsetMs + (this.#toneStartedAt === null ? 0 : performance.now() - this.#toneStartedAt);
  }

  /** Changes whenever the source changes, so guests see a new track (and their room glows). */
  trackId(): string {
    return `${this.kind}-${this.#serial}`;
  }

  meta(bpm: number | null): TrackMeta {
    const base: TrackMeta =
      this.kind === 'tone' ? { title: 'Test tone', artist: 'Familiar Sessions', album: 'Signal check' } : { ...this.fileMeta };
    const tempo = bpm ?? (this.kind === 'tone' ? DEFAULT_BPM : null);
    return tempo ? { ...base, bpm: tempo } : base;
  }

  level(): number {
    return analyserLevel(this.#analyser, this.#buffer);
  }

  close(): void {
    this.#element?.pause();
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    void this.ctx.close().catch(() => {});
  }

  #ensureTone(): { out: GainNode; lfo: OscillatorNode } {
    if (this.#tone) return this.#tone;
    const { ctx } = this;
    const out = ctx.createGain();
    out.gain.value = 0;
    // Amplitude pulses between 0.35 and 1 of the chord's level, once per beat.
    const pulse = ctx.createGain();
    pulse.gain.value = 0.675;
    const lfo = ctx.createOscillator();
    const depth = ctx.createGain();
    depth.gain.value = 0.325;
    lfo.connect(depth).connect(pulse.gain);
    for (const hz of TONE_HZ) {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      const g = ctx.createGain();
      g.gain.value = 0.12;
      osc.connect(g).connect(pulse);
      osc.start();
    }
    pulse.connect(out).connect(this.#bus);
    lfo.start();
    this.#tone = { out, lfo };
    return this.#tone;
  }
}
