// The guest page, /listen/:code: the lookup, the invitation and Join, progress in steps, the
// session itself (status, now playing, room, reactions, chat, Leave), and a screen of its own for
// each way it can end or fail. Installs window.__familiar for the browser tests.

import { useEffect, useRef, useState, type ReactNode } from 'react';
import { navigate } from '../../app/router';
import { Brand } from '../../components/Brand';
import { ChatPanel } from '../../components/ChatPanel';
import { CodeForm } from '../../components/CodeForm';
import { NoticeScreen } from '../../components/NoticeScreen';
import { ReactionBar } from '../../components/ReactionBar';
import { Room } from '../../components/Room';
import { Steps } from '../../components/Steps';
import { useNow } from '../../hooks/useNow';
import { normalizeCode } from '../../lib/code';
import { randomFamiliar } from '../../lib/familiar';
import { prefs } from '../../lib/prefs';
import { installTestHooks } from '../../lib/testHooks';
import type { Familiar, PublicSession } from '../../protocol/wire';
import { JoinForm } from './components/JoinForm';
import { NowPlaying } from './components/NowPlaying';
import { useGuestSession, type GuestSession, type GuestState } from './hooks/useGuestSession';
import { usePreflight } from './hooks/usePreflight';

/** What `window.__familiar.state()` reports: the lookup's outcome, then the session's. */
export type ListenState = 'loading' | 'not_found' | 'unreachable' | 'no_webrtc' | GuestState;

const STEP_OF: Partial<Record<ListenState, number>> = {
  joining: 0,
  negotiating: 1,
  starting: 2,
  blocked: 2,
};

const HEADLINES: Partial<Record<GuestState, string>> = {
  joining: 'Finding the session…',
  negotiating: 'Connecting to the host…',
  starting: 'Starting the audio…',
  blocked: 'Your browser needs a tap to play sound',
  connected: 'Connected',
  interrupted: 'Reconnecting to the host…',
  ice_failed: "Couldn't connect the audio",
  restarting: 'The relay is restarting',
  unreachable: "Can't reach the relay",
  reconnecting: 'Reconnecting to the relay…',
};

const PATH_WORDS = {
  direct: 'Audio comes straight from the host.',
  stun: 'Audio comes straight from the host, through your router.',
  turn: "Audio comes through the relay's TURN server.",
};

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

function Page({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="mx-auto max-w-xl space-y-4 px-4 pt-4 pb-16">
      <header className="flex min-h-11 items-center justify-between">
        <Brand />
        {action}
      </header>
      <main className="space-y-4">{children}</main>
    </div>
  );
}
function WrongPassword({ onRetry, home }: { onRetry: (password: string) => void; home: ReactNode }) {
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

function InSession({ state, code, session, g }: { state: GuestState; code: string; session: PublicSession | null; g: GuestSession }) {
  const { room, status } = g;
  const now = useNow(1000, status.retryAt !== null);
  const retryIn = status.retryAt ? Math.max(1, Math.ceil((status.retryAt - now) / 1000)) : null;
  const keepsPlaying = g.audioLive ? ' Your audio keeps playing meanwhile.' : '';
  let detail: string | null = null;
  if (state === 'connected') detail = g.path ? PATH_WORDS[g.path] : null;
  else if (state === 'ice_failed') detail = g.failure;
  else if (state === 'restarting') detail = `Back in ${retryIn ? `about ${retryIn} s` : 'a few seconds'}.${keepsPlaying}`;
  else if (state === 'unreachable') detail = `Trying again${retryIn ? ` in ${retryIn} s` : ''}.${keepsPlaying}`;
  else if (state === 'reconnecting') detail = keepsPlaying.trim() || null;
  else if (state === 'interrupted' && !room.hostAway) detail = 'The audio was interrupted.';
  if (room.hostAway && state !== 'restarting') {
    detail = `${detail ? `${detail} ` : ''}The host's connection dropped; waiting for them to come back.`;
  }
  const step = STEP_OF[state];
  const good = state === 'connected';
  const bad = state === 'ice_failed' || state === 'unreachable';
  const hostId = room.session?.host_id ?? null;
  const bpm = room.playback.isPlaying ? (room.trackMeta?.bpm ?? null) : null;

  return (
    <Page
      action={
        <button type="button" className="btn-ghost" onClick={g.leave}>
          Leave
        </button>
      }
    >
      <div>
        <h1 className="text-3xl leading-tight break-words">{room.session?.name ?? session?.name ?? 'Listening session'}</h1>
        <p className="mt-1 text-sm text-sand">
          Code <span className="font-mono text-cream">{code}</span>
          {room.session ? ` · ${room.count} here` : ''}
        </p>
      </div>

      <section aria-label="Connection" className="card">
        <p role="status" className="flex items-center gap-2.5 text-lg font-semibold">
          <span
            aria-hidden
            className={`h-2.5 w-2.5 shrink-0 rounded-full ${good ? 'bg-moss' : bad ? 'bg-alert' : 'breathe bg-ember'}`}
          />
          {HEADLINES[state]}
        </p>
        {detail && <p className="mt-1.5 text-sand">{detail}</p>}
        {step !== undefined && (
          <div className="mt-4">
            <Steps current={step} />
          </div>
        )}
        {state === 'blocked' && (
          <button type="button" className="btn-primary mt-4 w-full text-lg" onClick={g.audio.unblock}>
            Tap to start audio
          </button>
        )}
        {state === 'ice_failed' && (
          <button type="button" className="btn-primary mt-4 w-full" onClick={g.retryAudio}>
            Try again
          </button>
        )}
      </section>

      {g.notice && (
        <div role="alert" className="alert-box">
          <p>{g.notice}</p>
          <button type="button" className="min-h-11 text-sm text-sand underline" onClick={g.dismissNotice}>
            Dismiss
          </button>
        </div>
      )}

      {room.session && (
        <>
          <NowPlaying meta={room.trackMeta} clock={room.playback} audio={g.audio} />
          <Room
            // The relay tells everyone but us about our own audio link.
            participants={room.participants.map((p) => (p.user_id === room.me ? { ...p, webrtc_connected: g.audioLive } : p))}
            hostId={hostId}
            me={room.me}
            reactions={room.reactions}
            bpm={bpm}
            trackChangedAt={room.trackChangedAt}
          />
          <ReactionBar onReact={(kind) => g.send({ type: 'reaction', kind })} />
          <ChatPanel lines={room.chat} me={room.me} onSend={(message) => g.client.send({ type: 'chat', message })} />
        </>
      )}
    </Page>
  );
}
