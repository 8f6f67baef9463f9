// The session as the host runs it: where the connection stands, the invitation, what is playing
// and its controls, the listeners, the room, reactions and chat.

import { useState } from 'react';
import { ChatPanel } from '../../../components/ChatPanel';
import { LevelMeter } from '../../../components/LevelMeter';
import { ReactionBar } from '../../../components/ReactionBar';
import { Room } from '../../../components/Room';
import { useNow } from '../../../hooks/useNow';
import { formatTime } from '../../../lib/format';
import type { HostSession } from '../hooks/useHostSession';
import type { SourceKind } from '../lib/hostAudio';
import { GuestList } from './GuestList';
import { ShareCard } from './ShareCard';
import { SourcePicker } from './SourcePicker';
import { TempoField } from './TempoField';

export function LiveView({ host }: { host: HostSession }) {
  const { room, status } = host;
  // Re-renders each second: the position display and the retry countdown advance.
  const now = useNow(1000);
  const [lastFile, setLastFile] = useState<File | null>(null);
  const [picked, setPicked] = useState<SourceKind>(host.source);
  const retryIn = status.retryAt ? Math.max(1, Math.ceil((status.retryAt - now) / 1000)) : null;
  const guests = room.participants.filter((p) => p.user_id !== room.session?.host_id);
  const headline = {
    setup: '',
    creating: 'Creating the session…',
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
      </section>

      {room.session && <ShareCard code={room.session.code} />}

      <section aria-labelledby="playback-heading" className="card space-y-4">
        <div className="flex items-center justify-between gap-3">
          <div className="min-w-0">
            <h2 id="playback-heading" className="text-lg">
              Now playing
            </h2>
            <p className="truncate text-sand">
              {host.source === 'tone' ? 'Test tone' : (lastFile?.name ?? 'Audio file')} ·{' '}
              <span className="font-mono">{formatTime(host.position())}</span>
            </p>
          </div>
          <button type="button" className="btn-primary min-w-28" onClick={host.togglePlay}>
            {host.playing ? 'Pause' : 'Play'}
          </button>
        </div>
        <LevelMeter level={host.level} label="Outgoing level" />
        <SourcePicker
          source={picked}
          onSource={(kind) => {
            setPicked(kind);
            if (kind === 'tone') host.chooseTone();
            else if (lastFile) host.chooseFile(lastFile);
          }}
          onFile={(file) => {
            setLastFile(file);
            host.chooseFile(file);
          }}
        />
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
