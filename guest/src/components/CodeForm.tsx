// "Enter a code": accepts codes the way people type them (any case, spaces, dashes) and opens
// the guest page for it.

import { useState } from 'react';
import { navigate } from '../lib/router';
import { normalizeCode } from '../lib/code';

export function CodeForm({ autoFocus = false }: { autoFocus?: boolean }) {
  const [value, setValue] = useState('');
  const code = normalizeCode(value);
  return (
    <form
      className="flex gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        if (code) navigate(`/listen/${code}`);
      }}
    >
      <label htmlFor="session-code" className="sr-only">
        Session code
      </label>
      <input
        id="session-code"
        className="field font-mono text-lg tracking-widest uppercase placeholder:tracking-normal placeholder:normal-case"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder="Enter a code"
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        autoFocus={autoFocus}
        maxLength={24}
      />
      <button type="submit" className="btn-primary" disabled={!code}>
        Listen
      </button>
    </form>
  );
}
