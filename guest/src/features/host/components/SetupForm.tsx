// Setting up a session: its name, the host's name, an optional password, the audio source (with
// the first tracks of the queue) and tempo, the familiar, and Start (the tap that is allowed to
// start the audio, and to ask for a tab or an input).

import { useState, type ReactNode } from 'react';
import { FamiliarPicker } from '../../../components/FamiliarPicker';
import { randomFamiliar } from '../../../lib/familiar';
import { prefs } from '../../../lib/prefs';
import type { Familiar } from '../../../protocol/wire';
import type { HostSession } from '../hooks/useHostSession';
import { DEFAULT_BPM, type SourceKind } from '../lib/hostAudio';
import { AddMusic } from './AddMusic';
import { SourcePicker } from './SourcePicker';
import { TempoField } from './TempoField';

export function SetupForm({ host }: { host: HostSession }) {
  const [name, setName] = useState('');
  const [username, setUsername] = useState(prefs.name);
  const [password, setPassword] = useState('');
  const [source, setSource] = useState<SourceKind>('tone');
  const [files, setFiles] = useState<File[]>([]);
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
        host.create({ name: name.trim(), username: username.trim(), password, familiar, source, files, bpm });
      }}
    >
      <div>
        <h1 className="text-4xl">Host a session</h1>
        <p className="mt-2 text-sand">
          Play music from this browser to friends, the way the Familiar app does: your own files, a tab, or a line-in.
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
      <SourcePicker source={source} onSource={setSource} />
      {source === 'queue' && (
        <div className="space-y-2">
          <AddMusic onFiles={(more) => setFiles((had) => [...had, ...more])} />
          <p role="status" className="text-sm text-sand">
            {files.length ? `${files.length} track${files.length === 1 ? '' : 's'} ready; add more in the session too.` : 'No tracks chosen yet.'}
          </p>
        </div>
      )}
      <TempoField value={bpm} onChange={setBpm} />
      <FamiliarPicker value={familiar} onChange={setFamiliar} />
      <button type="submit" className="btn-primary w-full text-lg" disabled={source === 'queue' && files.length === 0}>
        Start session
      </button>
    </form>
  );
}
