// The by-code lookup before joining: the session's public face (name, how many listen, whether
// it has a password, whether the relay has TURN), or a plain "not found" / "unreachable".

import { useCallback, useEffect, useState } from 'react';
import { byCodeUrl } from '../../../config/relay';
import type { PublicSession } from '../../../protocol/wire';

export type Preflight =
  | { status: 'loading' }
  | { status: 'found'; session: PublicSession }
  | { status: 'not_found' }
  | { status: 'unreachable' };

export function usePreflight(code: string): Preflight & { retry: () => void } {
  const [state, setState] = useState<Preflight>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setState({ status: 'loading' });
    fetch(byCodeUrl(code), { signal: abort.signal, headers: { accept: 'application/json' } })
      .then(async (res) => {
        if (res.status === 404) return setState({ status: 'not_found' });
        if (!res.ok) return setState({ status: 'unreachable' });
        const session = (await res.json()) as PublicSession;
        setState({ status: 'found', session });
      })
      .catch(() => {
        if (!abort.signal.aborted) setState({ status: 'unreachable' });
      });
    return () => abort.abort();
  }, [code, attempt]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, retry };
}
