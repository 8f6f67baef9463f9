// The session itself, as the guest sees it once joined: where the connection stands (a headline,
// the detail, the steps while connecting, and the taps that help), any notice from the relay,
// what is playing, the room, reactions and chat, and Leave.

import { ChatPanel } from '../../../components/ChatPanel';
import { DismissibleAlert } from '../../../components/DismissibleAlert';
import { ReactionBar } from '../../../components/ReactionBar';
import { Room } from '../../../components/Room';
import { Steps } from '../../../components/Steps';
import { useNow } from '../../../hooks/useNow';
import type { PublicSession } from '../../../protocol/wire';
import type { GuestSession, GuestState } from '../hooks/useGuestSession';
import { NowPlaying } from './NowPlaying';
import { Page } from './Page';

const STEP_OF: Partial<Record<GuestState, number>> = {
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

export function InSession({ state, code, session, g }: { state: GuestState; code: string; session: PublicSession | null; g: GuestSession }) {
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

      {g.notice && <DismissibleAlert message={g.notice} onDismiss={g.dismissNotice} />}

      {room.session && (
        <>
          <NowPlaying meta={room.trackMeta} clock={room.playback} audio={g.audio} cover={g.cover} upNext={room.upNext} />
          <Room
            // The relay tells everyone but us about our own audio link.
            participants={room.participants.map((p) => (p.user_id === room.me ? { ...p, webrtc_connected: g.audioLive } : p))}
            hostId={hostId}
            me={room.me}
            reactions={room.reactions}
            bpm={bpm}
            trackChangedAt={room.trackChangedAt}
          />
          <ReactionBar onReact={g.react} />
          <ChatPanel lines={room.chat} me={room.me} onSend={g.chat} />
        </>
      )}
    </Page>
  );
}
