// The host page, /host: a small host speaking the same protocol as the Familiar app, so anyone
// can try a relay end to end and the browser tests have a real host. Set up (name, password,
// audio source, familiar), then run the session: share link and QR, playback controls, the
// listeners with their connection paths and a kick button, the room, reactions and chat.
// Loaded lazily: guests never download it.

import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Brand } from '../../components/Brand';
import { ChatPanel } from '../../components/ChatPanel';
import { FamiliarPicker } from '../../components/FamiliarPicker';
import { LevelMeter } from '../../components/LevelMeter';
import { ReactionBar } from '../../components/ReactionBar';
import { Room } from '../../components/Room';
import { useNow } from '../../hooks/useNow';
import { randomFamiliar } from '../../lib/familiar';
import { formatTime } from '../../lib/format';
import { prefs } from '../../lib/prefs';
import { installTestHooks } from '../../lib/testHooks';
import type { Familiar } from '../../protocol/wire';
import { GuestList } from './components/GuestList';
import { ShareCard } from './components/ShareCard';
import { useHostSession, type HostSession } from './hooks/useHostSession';
import { DEFAULT_BPM, type SourceKind } from './lib/hostAudio';

export default function HostPage() {
  const host = useHostSession();
  const stateRef = useRef<string>(host.state);
  stateRef.current = host.state;
  const codeRef = useRef<string | null>(null);
  codeRef.current = host.room.session?.code ?? null;
  const { level } = host;
  useEffect(
    () => installTestHooks({ audioLevel: level, state: () => stateRef.current, code: () => codeRef.current }),
    [level],
  );
  useEffect(() => {
    document.title = 'Host a session · Familiar Sessions';
  }, []);

  const inSession = host.state !== 'setup';
  return (
    <div className="mx-auto max-w-2xl space-y-4 px-4 pt-4 pb-16">
      <header className="flex min-h-11 items-center justify-between">
        <Brand />
        {inSession && (
          <button type="button" className="btn-ghost" onClick={host.end}>
            End session
          </button>
        )}
      </header>
      <main className="space-y-4">
        {host.notice && (
          <div role="alert" className="alert-box">
            <p>{host.notice}</p>
            <button type="button" className="text-sm text-sand underline" onClick={host.dismissNotice}>
              Dismiss
            </button>
          </div>
        )}
        {inSession ? <LiveView host={host} /> : <SetupForm host={host} />}
      </main>
    </div>
  );
}

function SourcePicker({
  source,
  onSource,
  onFile,
}: {
  source: SourceKind;
  onSource: (kind: SourceKind) => void;
  onFile: (file: File) => void;
}) {
  return (
    <fieldset>
      <legend className="label">Audio source</legend>
      <div className="flex flex-wrap gap-2">
        {(['tone', 'file'] as const).map((kind) => (
          <label key={kind} className="chip">
            <input type="radio" name="audio-source" className="sr-only" checked={source === kind} onChange={() => onSource(kind)} />
            {kind === 'tone' ? 'Test tone' : 'Audio file'}
          </label>
        ))}
      </div>
      {source === 'file' && (
        <div className="mt-3">
          <label htmlFor="audio-file" className="label">
            Choose an audio file
          </label>
          <input
            id="audio-file"
            type="file"
            accept="audio/*"
            className="block w-full text-sm text-sand file:mr-3 file:rounded-full file:border-0 file:bg-dusk file:px-4 file:py-2 file:text-cream"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) onFile(file);
            }}
          />
        </div>
      )}
    </fieldset>
  );
}

function TempoField({ value, onChange }: { value: number | null; onChange: (bpm: number | null) => void }) {
  return (
    <div>
      <label htmlFor="tempo" className="label">
        Tempo (BPM, optional)
      </label>
      <input
        id="tempo"
        type="number"
        inputMode="numeric"
        min={30}
        max={300}
        className="field w-32"
        value={value ?? ''}
        onChange={(e) => {
          const n = Number(e.target.value);
          onChange(e.target.value && n > 0 ? n : null);
        }}
      />
    </div>
  );
}

function SetupForm({ host }: { host: HostSession }) {
  const [name, setName] = useState('');
  const [username, setUsername] = useState(prefs.name);
  const [password, setPassword] = useState('');
  const [source, setSource] = useState<SourceKind>('tone');
  const [file, setFile] = useState<File | null>(null);
  const [bpm, setBpm] = useState<number | null>(DEFAULT_BPM);
  const [familiar, setFamiliar] = useState<Familiar>(() => prefs.familiar() ?? randomFamiliar());
  const field = (id: string, label: string, input: ReactNode) => (
    <div>
      <label htmlFor={id} className="label">
        {label}
      </label>
      {input}
    </div>
  );
  return (
    <form
      className="card space-y-5"
      onSubmit={(e) => {
        e.preventDefault();
        prefs.setName(username.trim());
        prefs.setFamiliar(familiar);
        host.create({ name: name.trim(), username: username.trim(), password, familiar, source, file, bpm });
      }}
    >
      <div>
        <h1 className="text-4xl">Host a session</h1>
        <p className="mt-2 text-sand">
          Play music from this browser to friends, the way the Familiar app does. Handy for trying a relay end to end.
        </p>
      </div>
      {field(
        'session-name',
        'Session name',
        <input id="session-name" className="field" value={name} onChange={(e) => setName(e.target.value)} placeholder="Listening Session" maxLength={60} />,
      )}
      {field(
        'host-name',
        'Your name',
        <input id="host-name" className="field" value={username} onChange={(e) => setUsername(e.target.value)} placeholder="Host" maxLength={32} autoComplete="nickname" />,
      )}
      {field(
        'session-password',
        'Password (optional)',
        <input id="session-password" type="password" className="field" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />,
      )}
      <SourcePicker source={source} onSource={setSource} onFile={setFile} />
      <TempoField value={bpm} onChange={setBpm} />
      <FamiliarPicker value={familiar} onChange={setFamiliar} />
      <button type="submit" className="btn-primary w-full text-lg" disabled={source === 'file' && !file}>
        Start session
      </button>
    </form>
  );
}

function LiveView({ host }: { host: HostSession }) {
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
          <ReactionBar onReact={(kind) => host.send({ type: 'reaction', kind })} />
          <ChatPanel lines={room.chat} me={room.me} onSend={(message) => host.send({ type: 'chat', message })} />
        </>
      )}
    </>
  );
}
