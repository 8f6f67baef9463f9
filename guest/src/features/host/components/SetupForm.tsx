// Setting up a session: its name, the host's name, an optional password, the audio source and
// tempo, the familiar, and Start (the tap that is allowed to start the audio).

import { useState, type ReactNode } from 'react';
import { FamiliarPicker } from '../../../components/FamiliarPicker';
import { randomFamiliar } from '../../../lib/familiar';
import { prefs } from '../../../lib/prefs';
import type { Familiar } from '../../../protocol/wire';
import type { HostSession } from '../hooks/useHostSession';
import { DEFAULT_BPM, type SourceKind } from '../lib/hostAudio';
import { SourcePicker } from './SourcePicker';
import { TempoField } from './TempoField';

export function SetupForm({ host }: { host: HostSession }) {
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
