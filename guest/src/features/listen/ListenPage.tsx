// The guest page, /listen/:code: picks the screen for where things stand: the lookup, the
// invitation and Join (`JoinForm`), the session itself (`InSession`), and a screen of its own for
// each way it can end or fail. Installs window.__familiar for the browser tests.

import { useEffect, useRef, type ReactNode } from 'react';
import { CodeForm } from '../../components/CodeForm';
import { NoticeScreen } from '../../components/NoticeScreen';
import { Steps } from '../../components/Steps';
import { normalizeCode } from '../../lib/code';
import { randomFamiliar } from '../../lib/familiar';
import { prefs } from '../../lib/prefs';
import { navigate } from '../../lib/router';
import { installTestHooks } from '../../lib/testHooks';
import type { Familiar } from '../../protocol/wire';
import { InSession } from './components/InSession';
import { JoinForm } from './components/JoinForm';
import { Page } from './components/Page';
import { WrongPassword } from './components/WrongPassword';
import { useGuestSession, type GuestState } from './hooks/useGuestSession';
import { usePreflight } from './hooks/usePreflight';

/** What `window.__familiar.state()` reports: the lookup's outcome, then the session's. */
export type ListenState = 'loading' | 'not_found' | 'unreachable' | 'no_webrtc' | GuestState;

interface LastJoin {
  name: string;
  familiar: Familiar;
  password: string;
}

export default function ListenPage({ code: raw }: { code: string }) {
  const code = normalizeCode(raw);
  useEffect(() => {
    // Show the canonical code in the address bar (people type "ab-c 12").
    if (code && raw !== code) navigate(`/listen/${code}`, true);
  }, [raw, code]);

  const preflight = usePreflight(code);
  const session = preflight.status === 'found' ? preflight.session : null;
  const g = useGuestSession(code, session?.turn_available ?? false);
  const last = useRef<LastJoin | null>(null);

  const state: ListenState = !code
    ? 'not_found'
    : g.active
      ? g.state
      : preflight.status === 'found'
        ? // Without WebRTC (turned off, or a WebKit built without it) nothing could ever play.
          window.RTCPeerConnection
          ? 'ready'
          : 'no_webrtc'
        : preflight.status;

  const stateRef = useRef(state);
  stateRef.current = state;
  const level = g.audio.level;
  useEffect(() => installTestHooks({ audioLevel: level, state: () => stateRef.current }), [level]);

  useEffect(() => {
    const name = g.room.session?.name ?? session?.name;
    document.title = name ? `${name} · Familiar Sessions` : 'Familiar Sessions';
  }, [g.room.session?.name, session?.name]);

  const join = (name: string, familiar: Familiar, password: string) => {
    last.current = { name, familiar, password };
    g.join(name, familiar, password);
  };
  const joinAgain = (password?: string) => {
    const prev = last.current ?? { name: prefs.name(), familiar: prefs.familiar() ?? randomFamiliar(), password: '' };
    join(prev.name, prev.familiar, password ?? prev.password);
  };
  const button = (primary: boolean, label: string, onClick: () => void) => (
    <button type="button" className={primary ? 'btn-primary' : 'btn-ghost'} onClick={onClick}>
      {label}
    </button>
  );
  const home = button(false, 'Back to start', () => navigate('/'));
  const notice = NOTICES[state];

  let screen: ReactNode;
  if (notice) {
    const [icon, title, body, action] = notice;
    screen = (
      <NoticeScreen
        icon={icon}
        title={title}
        actions={
          <>
            {action !== 'home' && button(true, action === 'rejoin' ? 'Join again' : 'Try again', () => joinAgain())}
            {home}
          </>
        }
      >
        {body && <p>{body}</p>}
      </NoticeScreen>
    );
  } else if (state === 'loading') {
    screen = (
      <Page>
        <section className="card space-y-4">
          <h1 className="text-2xl">
            Looking up session <span className="font-mono">{code}</span>
          </h1>
          <Steps current={0} />
        </section>
      </Page>
    );
  } else if (state === 'not_found') {
    screen = (
      <NoticeScreen
        icon="🔍"
        title="Session not found"
        actions={
          <>
            <CodeForm />
            {home}
          </>
        }
      >
        <p>
          There's no session with the code <span className="font-mono text-cream">{code || '—'}</span> right now. It may have
          ended, or the code may be mistyped.
        </p>
      </NoticeScreen>
    );
  } else if (state === 'unreachable' && !g.room.session) {
    screen = (
      <NoticeScreen icon="📡" title="Can't reach the relay" actions={button(true, 'Try again', g.active ? g.retryNow : preflight.retry)}>
        <p>Check that you're online. The relay may also be down for a moment.</p>
      </NoticeScreen>
    );
  } else if (state === 'wrong_password') {
    screen = <WrongPassword onRetry={(pw) => joinAgain(pw)} home={home} />;
  } else if (state === 'ready') {
    screen = session && (
      <Page>
        <div className="card">
          <JoinForm session={session} onJoin={join} />
        </div>
      </Page>
    );
  } else {
    screen = <InSession state={state as GuestState} code={code} session={session} g={g} />;
  }

  return (
    <>
      {/* Lives outside the screens so the stream keeps playing whatever is shown. */}
      <audio ref={g.audio.elRef} playsInline className="hidden" />
      {screen}
    </>
  );
}

/** The simple endings and refusals: icon, heading, words, and the way forward. */
const NOTICES: Partial<Record<ListenState, [string, string, string, 'retry' | 'home' | 'rejoin']>> = {
  session_full: ['🎧', 'This session is full', 'Every place is taken right now. Someone may leave soon; try again in a little while.', 'retry'],
  server_full: ['🌙', 'The relay is full', 'This relay is hosting as many sessions as it can right now. Try again in a few minutes.', 'retry'],
  throttled: ['⏳', 'Too many tries', 'Please wait a little before trying again.', 'retry'],
  kicked: ['🚪', 'You were removed from the session', 'The host removed you from this session.', 'home'],
  host_ended: ['🌅', 'The session has ended', 'The host has stopped the session. Thanks for listening!', 'home'],
  left: ['👋', 'You left the session', '', 'rejoin'],
  no_webrtc: ['📵', "This browser can't play live audio", 'It has no WebRTC, or it is turned off. Try Safari, Chrome or Firefox.', 'home'],
};
