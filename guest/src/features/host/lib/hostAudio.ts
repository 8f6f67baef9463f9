// The host page's audio: one WebAudio graph whose MediaStreamDestination track is what every
// guest receives, whatever feeds it: the built-in test tone (a chord that pulses on the beat, so
// guests' meters and familiars visibly move), the queue of local files (played gaplessly by
// TrackPlayer, tags read by music-metadata), a browser tab's or the screen's audio, or a
// microphone / line-in. Switching source or track never touches that track, so no guest's
// connection is renegotiated. Tells the page about every change through `onChange`.

import { analyserLevel, newAudioContext } from '../../../lib/audio';
import type { UpNextItem } from '../../../protocol/upNext';
import type { TrackMeta } from '../../../protocol/wire';
import { makeThumbnail } from './cover';
import * as Q from './queue';
import type { StoredQueue } from './queueStore';
import { readTags, metaFromFileName, type TrackTags } from './tags';
import { TrackPlayer } from './trackPlayer';

export type SourceKind = 'tone' | 'queue' | 'tab' | 'mic';
export type LiveKind = Extract<SourceKind, 'tab' | 'mic'>;

export interface TrackData {
  file: File;
  meta: TrackTags['meta'];
  /** The cover as a small JPEG data: URL, once read (null: none). */
  cover: string | null;
  /** The tags have been read (until then `meta` is from the file name). */
  tagged: boolean;
}

export type HostQueue = Q.QueueState<TrackData>;

/** A major chord (A3, C#4, E4): pleasant enough to listen to for a minute. */
const TONE_HZ = [220, 277.18, 329.63];
export const DEFAULT_BPM = 96;
const LIVE_META: Record<LiveKind, TrackMeta> = {
  tab: { title: 'Tab audio', artist: 'Live from the host’s browser' },
  mic: { title: 'Live input', artist: 'Microphone or line-in' },
};

/** Audio files by type, or by extension where the browser gives no type (some folder drops). */
export function isAudioFile(file: File): boolean {
  return file.type.startsWith('audio/') || /\.(mp3|m4a|aac|ogg|oga|opus|flac|wav|webm|weba)$/i.test(file.name);
}

/** Track ids unique across reloads of the tab (a restored queue keeps its ids). */
const idPrefix = Math.random().toString(36).slice(2, 8);
let nextTrackId = 1;

export class HostAudio {
  readonly ctx: AudioContext;
  readonly #dest: MediaStreamAudioDestinationNode;
  readonly #bus: GainNode;
  readonly #monitor: GainNode;
  readonly #analyser: AnalyserNode;
  readonly #buffer: Float32Array<ArrayBuffer>;
  readonly #player: TrackPlayer;
  #tone: { out: GainNode; lfo: OscillatorNode } | null = null;
  #live: { kind: LiveKind; stream: MediaStream; node: MediaStreamAudioSourceNode; startedAt: number; ended: boolean } | null = null;
  #toneOffsetMs = 0;
  #toneStartedAt: number | null = null;
  #serial = 1;
  #queuePlaying = false;
  /** Each track's tag reading, so a switch can wait for the first one's. */
  readonly #tagsRead = new Map<string, Promise<void>>();
  kind: SourceKind = 'tone';
  queue: HostQueue = Q.emptyQueue();
  /** Called after anything guests or the page show changed (source, track, queue, playing, tags). */
  onChange: (() => void) | null = null;
  /** A file that could not be played, or a live source that stopped. */
  onProblem: ((message: string) => void) | null = null;

  /** Construct inside a tap where possible: the AudioContext then starts running. */
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
    const queueOut = ctx.createGain();
    queueOut.connect(this.#bus);
    this.#player = new TrackPlayer(ctx, queueOut);
    this.#player.onAdvance = (id) => this.#trackEnded(id);
    void ctx.resume();
  }

  get stream(): MediaStream {
    return this.#dest.stream;
  }

  get track(): MediaStreamTrack | null {
    return this.#dest.stream.getAudioTracks()[0] ?? null;
  }

  /** False until a tap lets the context run (after a reload, say). */
  get running(): boolean {
    return this.ctx.state === 'running';
  }

  // ---- sources ----

  useTone(bpm: number | null): void {
    this.#leaveSource();
    this.kind = 'tone';
    this.#serial += 1;
    this.#toneOffsetMs = 0;
    this.setTempo(bpm);
    this.#changed();
  }

  /** The tone pulses at the tempo the page announces, so the familiars' sway matches it. */
  setTempo(bpm: number | null): void {
    const tone = this.#ensureTone();
    tone.lfo.frequency.value = (bpm && bpm > 0 ? bpm : DEFAULT_BPM) / 60;
  }

  /**
   * Decodes the queue's current track and reads its tags ahead of a switch, so the old source
   * plays meanwhile and guests are told the track's real title from the first update.
   */
  async prepareQueue(): Promise<void> {
    const e = Q.currentEntry(this.queue);
    if (!e) return;
    await Promise.all([this.#player.decode(e.id, e.data.file).catch(() => {}), this.#tagsRead.get(e.id)]);
  }

  /** Makes the queue the source (it plays with `play`). */
  useQueue(): void {
    if (this.kind === 'queue') return;
    this.#leaveSource();
    this.kind = 'queue';
    this.#serial += 1;
    this.#changed();
  }

  /**
   * A tab's, the screen's or an input's audio. The host does not hear it through the page
   * (a microphone would feed back; a tab already plays itself).
   */
  useLive(kind: LiveKind, stream: MediaStream): void {
    const track = stream.getAudioTracks()[0];
    if (!track) throw new Error('no audio track');
    this.#leaveSource();
    const node = this.ctx.createMediaStreamSource(stream);
    node.connect(this.#bus);
    const live = { kind, stream, node, startedAt: performance.now(), ended: false };
    track.addEventListener('ended', () => {
      live.ended = true;
      if (this.#live === live) {
        this.onProblem?.(kind === 'tab' ? 'Sharing stopped: choose a source to carry on.' : 'The input stopped: choose a source to carry on.');
        this.#changed();
      }
    });
    this.#live = live;
    this.kind = kind;
    this.#serial += 1;
    this.#changed();
  }

  // ---- the queue ----

  /** Appends files (non-audio ones are skipped); tags and covers are read in the background. */
  addFiles(files: File[]): number {
    const audio = files.filter(isAudioFile);
    const tracks = audio.map((file) => ({
      id: `${idPrefix}-${nextTrackId++}`,
      data: { file, meta: metaFromFileName(file.name), cover: null, tagged: false } satisfies TrackData,
    }));
    if (tracks.length === 0) return 0;
    this.#setQueue(Q.add(this.queue, tracks));
    for (const t of tracks) this.#tagsRead.set(t.id, this.#readTags(t.id, t.data.file));
    return tracks.length;
  }

  /** The queue as a reload left it: paused at the same track and place, tags read again. */
  restoreQueue(stored: Omit<StoredQueue, 'tab' | 'savedAt'>, files: Map<string, File>): void {
    const items = stored.items.flatMap((e) => {
      const file = files.get(e.id);
      return file ? [{ id: e.id, added: e.added, data: { file, meta: metaFromFileName(file.name), cover: null, tagged: false } }] : [];
    });
    if (items.length === 0) return;
    this.#leaveSource();
    const current = items.some((e) => e.id === stored.current) ? stored.current : (items[0]?.id ?? null);
    this.kind = 'queue';
    this.#serial += 1;
    this.#setQueue({ items, current, repeat: stored.repeat, shuffle: stored.shuffle, nextAdded: stored.nextAdded });
    if (current) this.#player.cue(current, current === stored.current ? stored.positionMs / 1000 : 0);
    for (const e of items) this.#tagsRead.set(e.id, this.#readTags(e.id, e.data.file));
  }

  /** Each queued track's file, by id (what the tab stores to survive a reload). */
  queueFiles(): Map<string, File> {
    return new Map(this.queue.items.map((e) => [e.id, e.data.file]));
  }

  remove(id: string): void {
    const wasCurrent = this.queue.current === id;
    this.#setQueue(Q.remove(this.queue, id));
    if (wasCurrent && this.kind === 'queue') this.#startCurrent(0);
  }

  move(id: string, to: number): void {
    this.#setQueue(Q.move(this.queue, id, to));
  }

  jump(id: string): void {
    this.#setQueue(Q.jump(this.queue, id));
    if (this.kind !== 'queue') this.useQueue();
    this.#queuePlaying = true;
    this.#startCurrent(0);
  }

  skip(): void {
    this.#setQueue(Q.skip(this.queue));
    this.#startCurrent(0);
  }

  /** Back to the start of the track when it has played a while, else to the one before. */
  previous(): void {
    if (this.#player.positionMs() < 3000) this.#setQueue(Q.previous(this.queue));
    this.#startCurrent(0);
  }

  setRepeat(repeat: Q.Repeat): void {
    this.#setQueue(Q.setRepeat(this.queue, repeat));
  }

  setShuffle(on: boolean): void {
    this.#setQueue(Q.setShuffle(this.queue, on));
  }

  // ---- transport ----

  async play(): Promise<void> {
    void this.ctx.resume();
    if (this.kind === 'tone') {
      this.#ensureTone().out.gain.setTargetAtTime(1, this.ctx.currentTime, 0.02);
      this.#toneStartedAt ??= performance.now();
    } else if (this.kind === 'queue') {
      this.#setQueue(Q.startIfIdle(this.queue));
      this.#queuePlaying = true;
      const resumeAt = this.#player.currentId === this.queue.current ? this.#player.positionMs() / 1000 : 0;
      await this.#startCurrent(resumeAt);
    }
    this.#changed();
  }

  pause(): void {
    if (this.#tone) this.#tone.out.gain.setTargetAtTime(0, this.ctx.currentTime, 0.02);
    if (this.#toneStartedAt !== null) {
      this.#toneOffsetMs += performance.now() - this.#toneStartedAt;
      this.#toneStartedAt = null;
    }
    if (this.kind === 'queue') {
      this.#queuePlaying = false;
      this.#player.pause();
    }
    this.#changed();
  }

  get isPlaying(): boolean {
    switch (this.kind) {
      case 'tone':
        return this.#toneStartedAt !== null;
      case 'queue':
        return this.#queuePlaying && this.queue.current !== null;
      default:
        return !!this.#live && !this.#live.ended;
    }
  }

  positionMs(): number {
    switch (this.kind) {
      case 'tone':
        return this.#toneOffsetMs + (this.#toneStartedAt === null ? 0 : performance.now() - this.#toneStartedAt);
      case 'queue':
        return this.#player.currentId === this.queue.current ? this.#player.positionMs() : 0;
      default:
        return this.#live ? performance.now() - this.#live.startedAt : 0;
    }
  }

  // ---- what guests are told ----

  /** Changes whenever another track starts (or the source changes), so guests see a new track. */
  trackId(): string {
    return `${this.kind}-${this.#serial}`;
  }

  current(): Q.Entry<TrackData> | null {
    return this.kind === 'queue' ? Q.currentEntry(this.queue) : null;
  }

  meta(bpm: number | null): TrackMeta {
    let base: TrackMeta;
    if (this.kind === 'tone') base = { title: 'Test tone', artist: 'Familiar Sessions', album: 'Signal check' };
    else if (this.kind === 'queue') {
      base = { ...(this.current()?.data.meta ?? { title: this.queue.items.length ? 'End of the queue' : 'Nothing queued yet' }) };
    }
    else base = { ...LIVE_META[this.kind] };
    const tempo = bpm ?? (this.kind === 'tone' ? DEFAULT_BPM : null);
    return tempo ? { ...base, bpm: tempo } : base;
  }

  /** The next (at most ten) tracks, for guests; empty for any source but the queue. */
  upNext(): UpNextItem[] {
    if (this.kind !== 'queue') return [];
    return Q.upNext(this.queue).map(({ data: { meta } }) => ({
      title: meta.title,
      ...(meta.artist ? { artist: meta.artist } : {}),
      ...(meta.album ? { album: meta.album } : {}),
    }));
  }

  /** The current track's cover thumbnail (a data: URL), if it has one. */
  cover(): string | null {
    return this.current()?.data.cover ?? null;
  }

  level(): number {
    return analyserLevel(this.#analyser, this.#buffer);
  }

  close(): void {
    this.#player.stop();
    this.#stopLive();
    void this.ctx.close().catch(() => {});
  }

  // ---- inside ----

  #leaveSource(): void {
    this.pause();
    this.#player.stop();
    this.#stopLive();
    // The host hears the files it plays, but not the tone (it would only echo the guests') nor
    // a live source (a microphone would feed back; a tab already plays itself).
    this.#monitor.gain.value = 0;
  }

  #stopLive(): void {
    if (!this.#live) return;
    this.#live.node.disconnect();
    for (const t of this.#live.stream.getTracks()) t.stop();
    this.#live = null;
  }

  #setQueue(next: HostQueue): void {
    if (next === this.queue) return;
    this.queue = next;
    const plan = Q.preloadPlan(next);
    this.#player.retain(plan.keep);
    this.#planNext();
    this.#changed();
  }

  /** Tells the player what follows the current track, so it is decoded and scheduled ahead. */
  #planNext(): void {
    const id = Q.following(this.queue);
    const entry = this.queue.items[Q.indexOf(this.queue, id)];
    const playingCurrent = this.#player.currentId === this.queue.current;
    this.#player.setNext(entry && playingCurrent ? { id: entry.id, file: entry.data.file } : null);
  }

  /** Starts the queue's current track at `offsetS` if the queue is playing; stops at the end. */
  async #startCurrent(offsetS: number): Promise<void> {
    const entry = Q.currentEntry(this.queue);
    if (this.kind !== 'queue') return;
    if (!entry) {
      this.#queuePlaying = false;
      this.#player.stop();
      this.#changed();
      return;
    }
    const fresh = this.#player.currentId !== entry.id || offsetS === 0;
    if (fresh) this.#serial += 1;
    if (!this.#queuePlaying) {
      this.#player.stop();
      this.#changed();
      return;
    }
    this.#monitor.gain.value = 1;
    try {
      await this.#player.play(entry.id, entry.data.file, offsetS);
    } catch {
      this.onProblem?.(`“${entry.data.meta.title}” can't be played in this browser; skipping it.`);
      if (Q.currentEntry(this.queue) === entry) {
        this.#setQueue(Q.skip(this.queue));
        await this.#startCurrent(0);
      }
      return;
    }
    this.#planNext();
    this.#changed();
  }

  /** The player's current track ended; `nowPlaying` is what it started seamlessly, if anything. */
  #trackEnded(nowPlaying: string | null): void {
    this.queue = Q.advance(this.queue);
    this.#player.retain(Q.preloadPlan(this.queue).keep);
    this.#serial += 1;
    if (this.queue.current === null) {
      this.#queuePlaying = false;
      this.#changed();
    } else if (nowPlaying === this.queue.current) {
      this.#planNext();
      this.#changed();
    } else {
      // Nothing was ready in time (a slow decode): start it now.
      this.#serial -= 1;
      void this.#startCurrent(0);
    }
  }

  async #readTags(id: string, file: File): Promise<void> {
    const tags = await readTags(file);
    const cover = tags.cover ? await makeThumbnail(tags.cover) : null;
    const items = this.queue.items.map((e) => (e.id === id ? { ...e, data: { ...e.data, meta: tags.meta, cover, tagged: true } } : e));
    this.queue = { ...this.queue, items };
    this.#changed();
  }

  #changed(): void {
    this.onChange?.();
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
