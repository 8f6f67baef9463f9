// The host page, /host: a host speaking the same protocol as the Familiar app, so anyone can host
// from a browser (and the browser tests have a real host). Set up (`SetupForm`: name, password,
// audio source and first tracks, familiar), then run the session (`LiveView`: share link and QR,
// now playing, the queue and sources, the listeners with their connection paths and a kick
// button, the room, reactions and chat). A reload resumes the session; "End session" ends it.
// Loaded lazily: guests never download it.

import { useEffect, useRef } from 'react';
import { Brand } from '../../components/Brand';
import { DismissibleAlert } from '../../components/DismissibleAlert';
import { installTestHooks } from '../../lib/testHooks';
import { LiveView } from './components/LiveView';
import { SetupForm } from './components/SetupForm';
import { useHostSession } from './hooks/useHostSession';

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
        {host.notice && <DismissibleAlert message={host.notice} onDismiss={host.dismissNotice} />}
        {inSession ? <LiveView host={host} /> : <SetupForm host={host} />}
      </main>
    </div>
  );
}
