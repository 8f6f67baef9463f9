// What the host is playing: its cover (when the host sends one), title, artist and album from
// track_meta, playing or paused, a position that keeps advancing between the host's updates, the
// live level meter, this device's volume and mute, and what is up next (when the relay passes
// the host's list on).

import { LevelMeter } from '../../../components/LevelMeter';
import { useNow } from '../../../hooks/useNow';
import { formatTime } from '../../../lib/format';
import type { UpNextItem } from '../../../protocol/upNext';
import type { TrackMeta } from '../../../protocol/wire';
import { positionAt, type PlaybackClock } from '../../../room/state';
import type { RemoteAudio } from '../hooks/useRemoteAudio';

interface NowPlayingProps {
  meta: TrackMeta | null;
  clock: PlaybackClock;
  audio: RemoteAudio;
  cover?: string | null;
  upNext?: UpNextItem[] | null;
}

export function NowPlaying({ meta, clock, audio, cover = null, upNext = null }: NowPlayingProps) {
  const now = useNow(500, clock.isPlaying);
  const title = meta?.title || (clock.trackId ? 'Untitled track' : 'Nothing playing yet');
  const details = [meta?.artist, meta?.album].filter(Boolean).join(' · ');
  return (
    <section aria-labelledby="np-heading" className="card space-y-4">
      <div className="flex items-center gap-4">
        {cover && <img src={cover} alt={`Cover of ${title}`} width={96} height={96} className="h-24 w-24 shrink-0 rounded-2xl object-cover" />}
        <div className="min-w-0">
          <p className="text-xs tracking-widest text-ember uppercase">
            {clock.isPlaying ? 'Now playing' : clock.trackId ? 'Paused' : 'Waiting for the host'}
          </p>
          <h2 id="np-heading" className="mt-1 text-2xl leading-snug break-words">
            {title}
          </h2>
          {details && <p className="text-sand">{details}</p>}
        </div>
      </div>
      <div className="flex items-center gap-3 text-sm text-sand">
        <span className="font-mono text-cream" aria-label="Position">
          {formatTime(positionAt(clock, now))}
        </span>
        <span>{clock.isPlaying ? '▶ Playing' : '❚❚ Paused'}</span>
        {meta?.bpm ? <span>{Math.round(meta.bpm)} BPM</span> : null}
      </div>
      <LevelMeter level={audio.level} />
      <div className="flex items-center gap-3">
        <button
          type="button"
          className="btn-ghost px-4"
          aria-pressed={audio.muted}
          onClick={() => audio.setMuted(!audio.muted)}
        >
          <span aria-hidden>{audio.muted ? '🔇' : '🔊'}</span>
          Mute
        </button>
        {/* iOS ignores this (its volume is the hardware buttons'); mute still works there. */}
        <input
          type="range"
          aria-label="Volume"
          min={0}
          max={1}
          step={0.05}
          value={audio.muted ? 0 : audio.volume}
          onChange={(e) => audio.setVolume(Number(e.target.value))}
          className="h-11 flex-1 accent-ember"
        />
      </div>
      {upNext && upNext.length > 0 && (
        <div>
          <h3 id="up-next-heading" className="text-sm font-semibold text-sand">
            Up next
          </h3>
          <ol aria-labelledby="up-next-heading" className="mt-1 space-y-0.5 text-sm">
            {upNext.map((t, i) => (
              <li key={i} className="truncate">
                {t.title || 'Untitled track'}
                {t.artist && <span className="text-sand"> · {t.artist}</span>}
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
