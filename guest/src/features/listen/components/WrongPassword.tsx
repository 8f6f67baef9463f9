// The wrong-password screen: says so, and asks for the password again in place.

import { useState, type ReactNode } from 'react';
import { NoticeScreen } from '../../../components/NoticeScreen';

export function WrongPassword({ onRetry, home }: { onRetry: (password: string) => void; home: ReactNode }) {
  const [password, setPassword] = useState('');
  return (
    <NoticeScreen icon="🔒" title="Wrong password">
      <p>That password didn't open the session. Check it with the host and try again.</p>
      <form
        className="space-y-3 text-left"
        onSubmit={(e) => {
          e.preventDefault();
          onRetry(password);
        }}
      >
        <label htmlFor="retry-password" className="label">
          Password
        </label>
        <input
          id="retry-password"
          type="password"
          className="field"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          autoFocus
        />
        <div className="flex flex-col gap-3 pt-2">
          <button type="submit" className="btn-primary">
            Try again
          </button>
          {home}
        </div>
      </form>
    </NoticeScreen>
  );
}
