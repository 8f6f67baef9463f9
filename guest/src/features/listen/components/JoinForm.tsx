// The invitation: which session this is and how many listen, then name (remembered on this
// device), password when the session has one, the familiar, and Join. The Join tap is also what
// unlocks audio on iOS, so the parent's onJoin must run inside it.

import { useState } from 'react';
import { FamiliarPicker } from '../../../components/FamiliarPicker';
import { randomFamiliar } from '../../../lib/familiar';
import { prefs } from '../../../lib/prefs';
import type { Familiar, PublicSession } from '../../../protocol/wire';

interface JoinFormProps {
  session: PublicSession;
  onJoin: (name: string, familiar: Familiar, password: string) => void;
}

export function JoinForm({ session, onJoin }: JoinFormProps) {
  const [name, setName] = useState(prefs.name);
  const [familiar, setFamiliar] = useState<Familiar>(() => prefs.familiar() ?? randomFamiliar());
  const [password, setPassword] = useState('');
  const count = session.participant_count;
  return (
    <form
      className="space-y-5"
      onSubmit={(e) => {
        e.preventDefault();
        const clean = name.trim();
        prefs.setName(clean);
        prefs.setFamiliar(familiar);
        onJoin(clean, familiar, password);
      }}
    >
      <div>
        <p className="text-sm tracking-widest text-ember uppercase">You're invited to listen</p>
        <h1 className="mt-1 text-4xl leading-tight break-words">{session.name}</h1>
        <p className="mt-2 text-sand">
          {count === 1 ? 'Just the host so far' : `${count} people here`} · code{' '}
          <span className="font-mono text-cream">{session.code}</span>
        </p>
      </div>
      <div>
        <label htmlFor="guest-name" className="label">
          Your name
        </label>
        <input
          id="guest-name"
          className="field"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Guest"
          maxLength={32}
          autoComplete="nickname"
        />
      </div>
      {session.has_password && (
        <div>
          <label htmlFor="guest-password" className="label">
            Password
          </label>
          <input
            id="guest-password"
            type="password"
            className="field"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete="off"
          />
          <p className="mt-1.5 text-sm text-sand">This session is private; the host can tell you the password.</p>
        </div>
      )}
      <FamiliarPicker value={familiar} onChange={setFamiliar} />
      <button type="submit" className="btn-primary w-full text-lg">
        Join
      </button>
    </form>
  );
}
