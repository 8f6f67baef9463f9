// Gapless playback of decoded files on one AudioContext: each track is decoded whole
// (decodeAudioData) and played by an AudioBufferSourceNode; the track that follows is decoded
// ahead and scheduled to start on the exact sample the current one ends, so nothing is lost
// between tracks (an <audio> element's `ended` → `play()` leaves tens of milliseconds). Holds
// only the buffers the queue says to keep. The queue itself (what follows) is decided elsewhere.

interface Playing {
  id: string;
  src: AudioBufferSourceNode;
  /** The context time at which the buffer's sample 0 plays (or would have). */
  origin: number;
  duration: number;
}

/** A little lead so a start is never in the past by the time the node is scheduled. */
const START_LEAD_S = 0.03;

export class TrackPlayer {
  readonly #ctx: BaseAudioContext;
  readonly #out: AudioNode;
  readonly #decoded = new Map<string, Promise<AudioBuffer>>();
  #current: Playing | null = null;
  #next: Playing | null = null;
  /** The follow-up the queue wants, scheduled once decoded. */
  #wantedNext: { id: string; file: Blob } | null = null;
  #paused: { id: string; offset: number } | null = null;
  /** Bumped by every play/pause/stop, so a decode that finishes late does not act on old intent. */
  #epoch = 0;
  /** The current track ended and the scheduled one (or nothing) took over: `id` is what plays now. */
  onAdvance: ((id: string | null) => void) | null = null;

  constructor(ctx: BaseAudioContext, out: AudioNode) {
    this.#ctx = ctx;
    this.#out = out;
  }

  /** Decodes once per id; a file that is not audio rejects. */
  decode(id: string, file: Blob): Promise<AudioBuffer> {
    let p = this.#decoded.get(id);
    if (!p) {
      p = file.arrayBuffer().then((data) => this.#ctx.decodeAudioData(data));
      this.#decoded.set(id, p);
      p.catch(() => this.#decoded.delete(id));
    }
    return p;
  }

  /** Lets go of every decoded buffer but those in `keep` (each is tens of MB for a long track). */
  retain(keep: Set<string>): void {
    for (const id of [...this.#decoded.keys()]) if (!keep.has(id)) this.#decoded.delete(id);
  }

  isDecoded(id: string): boolean {
    return this.#decoded.has(id);
  }

  get currentId(): string | null {
    return this.#current?.id ?? this.#paused?.id ?? null;
  }

  get isPlaying(): boolean {
    return this.#current !== null;
  }

  positionMs(): number {
    if (this.#current) return Math.max(0, this.#ctx.currentTime - this.#current.origin) * 1000;
    return (this.#paused?.offset ?? 0) * 1000;
  }

  /** Plays `id` from `offsetS` now (after decoding it if needed). Rejects if it cannot be decoded. */
  async play(id: string, file: Blob, offsetS = 0): Promise<void> {
    this.#stopAll();
    const epoch = ++this.#epoch;
    const buffer = await this.decode(id, file);
    if (epoch !== this.#epoch) return;
    const offset = Math.min(Math.max(0, offsetS), Math.max(0, buffer.duration - 0.01));
    const at = this.#ctx.currentTime + START_LEAD_S;
    this.#current = this.#start(id, buffer, at, offset);
    this.#paused = null;
    this.#scheduleNext();
  }

  /** Stops where it is; `resume` (play with the same id) carries on from here. */
  pause(): void {
    const id = this.currentId;
    const offset = this.positionMs() / 1000;
    this.#stopAll();
    this.#epoch++;
    this.#paused = id === null ? null : { id, offset };
  }

  /** Paused at `offsetS` of `id` without playing (a queue restored after a reload). */
  cue(id: string, offsetS: number): void {
    this.stop();
    this.#paused = { id, offset: Math.max(0, offsetS) };
  }

  /** Stops and forgets the position. */
  stop(): void {
    this.#stopAll();
    this.#epoch++;
    this.#paused = null;
  }

  /** The track to start when the current one ends, or null for none; decoded now if needed. */
  setNext(next: { id: string; file: Blob } | null): void {
    if (this.#wantedNext?.id === next?.id && this.#wantedNext?.file === next?.file) return;
    this.#wantedNext = next;
    this.#cancelNext();
    this.#scheduleNext();
  }

  /** The time left in the current track, in seconds (for tests and the page). */
  remainingS(): number {
    const c = this.#current;
    return c ? Math.max(0, c.origin + c.duration - this.#ctx.currentTime) : 0;
  }

  #scheduleNext(): void {
    const wanted = this.#wantedNext;
    const current = this.#current;
    if (!wanted || !current || this.#next) return;
    const epoch = this.#epoch;
    this.decode(wanted.id, wanted.file).then(
      (buffer) => {
        // Still the same intent, still the same track playing, nothing scheduled meanwhile.
        if (epoch !== this.#epoch || this.#current !== current || this.#wantedNext !== wanted || this.#next) return;
        const at = current.origin + current.duration;
        // Too late to join seamlessly (a slow decode): the end of the current track starts it.
        if (at < this.#ctx.currentTime + 0.005) return;
        this.#next = this.#start(wanted.id, buffer, at, 0);
      },
      () => {},
    );
  }

  #start(id: string, buffer: AudioBuffer, at: number, offset: number): Playing {
    const src = this.#ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(this.#out);
    src.start(at, offset);
    const playing: Playing = { id, src, origin: at - offset, duration: buffer.duration };
    src.onended = () => this.#ended(playing);
    return playing;
  }

  #ended(playing: Playing): void {
    if (playing !== this.#current) return;
    playing.src.disconnect();
    this.#current = this.#next;
    this.#next = null;
    this.#wantedNext = null;
    this.onAdvance?.(this.#current?.id ?? null);
  }

  #cancelNext(): void {
    const n = this.#next;
    this.#next = null;
    if (!n) return;
    n.src.onended = null;
    try {
      n.src.stop();
    } catch {
      // Never started: nothing to stop.
    }
    n.src.disconnect();
  }

  #stopAll(): void {
    this.#cancelNext();
    const c = this.#current;
    this.#current = null;
    if (!c) return;
    c.src.onended = null;
    try {
      c.src.stop();
    } catch {
      // Already stopped.
    }
    c.src.disconnect();
  }
}
