// The session as the host runs it: where the connection stands (and, after a reload, the tap
// that plays again), the invitation, what is playing with its controls and source, the queue,
// the listeners, the room, reactions and chat.

import { useEffect, useState } from 'react';
import { ChatPanel } from '../../../components/ChatPanel';
import { LevelMeter } from '../../../components/LevelMeter';
import { ReactionBar } from '../../../components/ReactionBar';
import { Room } from '../../../components/Room';
import { useNow } from '../../../hooks/useNow';
import { formatTime } from '../../../lib/format';
import type { HostSession } from '../hooks/useHostSession';
import { GuestList } from './GuestList';
import { Cover, QueuePanel } from './QueuePanel';
import { ShareCard } from './ShareCard';
import { SourcePicker } from './SourcePicker';
import { TempoField } from './TempoField';

export function LiveView({ host }: { host: HostSession }) {
  const { room, status } = host;
  // Re-renders each second: the position display and the retry countdown advance.
  const now = useNow(1000);
  // "Your music" with nothing queued yet shows the queue but keeps the current source playing
  // until there is a track to switch to.
  const [picked, setPicked] = useState(host.source);
  useEffect(() => setPicked(host.source), [host.source]);
  const retryIn = status.retryAt ? Math.max(1, Math.ceil((status.retryAt - now) / 1000)) : null;
  const current = host.source === 'queue' && host.queue ? (host.queue.items.find((e) => e.id === host.queue?.current) ?? null) : null;
  const guests = room.participants.filter((p) => p.user_id !== room.session?.host_id);
  const headline = {
    setup: '',
    creating: 'Creating the session…',
    resuming: 'Rejoining your session…',
    live: `Live · ${guests.length} listening`,
    reconnecting: 'Reconnecting to the relay… guests keep hearing you meanwhile.',
    restarting: `The relay is restarting; back in ${retryIn ? `about ${retryIn} s` : 'a few seconds'}.`,
    unreachable: `Can't reach the relay; trying again${retryIn ? ` in ${retryIn} s` : ''}.`,
  }[host.state];

  return (
    <>
      <section aria-label="Session status" className="card">
        <p role="status" className="flex items-center gap-2.5 text-lg font-semibold">
          <span
            aria-hidden
            className={`h-2.5 w-2.5 rounded-full ${host.state === 'live' ? 'bg-moss' : host.state === 'unreachable' ? 'bg-alert' : 'breathe bg-ember'}`}
          />
          {headline}
        </p>
        {room.session && <p className="mt-1 text-sand">{room.session.name}</p>}
        <p className="mt-2 text-sm text-sand">
          “End session” ends it for everyone. Reloading keeps it; closing the tab without ending shows you as away to
          listeners, and the session ends if you do not come back shortly.
        </p>
      </section>

      {host.needsResume && (
        <section aria-label="Resume" className="card space-y-3 border-ember">
          <p className="text-lg font-semibold">You’re back in your session.</p>
          <p className="text-sand">Your listeners stayed. Your browser needs a tap before this page plays again.</p>
          <button type="button" className="btn-primary" onClick={host.resumePlaying}>
            Resume playing
          </button>
        </section>
      )}

      {room.session && <ShareCard code={room.session.code} />}

      <section aria-labelledby="playback-heading" className="card space-y-4">
        <div className="flex items-center gap-3">
          {host.source === 'queue' && <Cover src={current?.data.cover ?? null} size={64} />}
          <div className="min-w-0 flex-1">
            <h2 id="playback-heading" className="text-lg">
              Now playing
            </h2>
            <p className="truncate" data-testid="host-now-playing">
              {host.currentTitle ?? 'Nothing yet'}
            </p>
            <p className="truncate text-sm text-sand">
              {current ? [current.data.meta.artist, current.data.meta.album].filter(Boolean).join(' · ') : ''}
              {current ? ' · ' : ''}
              <span className="font-mono">{formatTime(host.position())}</span>
            </p>
          </div>
          {(host.source === 'tone' || host.source === 'queue') && (
            <button type="button" className="btn-primary min-w-28" onClick={host.togglePlay}>
              {host.playing ? 'Pause' : 'Play'}
            </button>
          )}
        </div>
        <LevelMeter level={host.level} label="Outgoing level" />
        <SourcePicker
          source={picked}
          onSource={(kind) => {
            setPicked(kind);
            if (kind !== 'queue' || (host.queue?.items.length ?? 0) > 0) host.choose(kind);
          }}
        />
        {picked === 'queue' && <QueuePanel host={host} />}
        <TempoField value={host.bpm} onChange={host.setBpm} />
      </section>

      {room.session && (
        <>
          <GuestList guests={guests} links={room.links} onKick={host.kick} />
          <Room
            participants={room.participants}
            hostId={room.session.host_id}
            me={room.me}
            reactions={room.reactions}
            bpm={host.playing ? host.bpm : null}
            trackChangedAt={null}
          />
          <ReactionBar onReact={host.react} />
          <ChatPanel lines={room.chat} me={room.me} onSend={host.chat} />
        </>
      )}
    </>
  );
}
