// The room: the host on stage and everyone else around, each as their familiar with a live dot
// while their audio is connected. Familiars sway on the beat when the host sends a tempo, the
// room glows once when the track changes, and reactions float up over whoever sent them (and are
// read out politely to screen readers, a few seconds' worth in one sentence).

import { useEffect, useRef, useState, type CSSProperties } from 'react';
import type { ParticipantView } from '../protocol/wire';
import { REACTION_EMOJI } from '../room/reactions';
import { reactionAnnouncement, type Reaction } from '../room/state';
import { FamiliarAvatar } from './FamiliarAvatar';

interface RoomProps {
  participants: ParticipantView[];
  hostId: string | null;
  me: string | null;
  reactions: Reaction[];
  /** Tempo of the current track, when the host sent one and it is playing. */
  bpm: number | null;
  trackChangedAt: number | null;
}

function statusText(p: ParticipantView, isHost: boolean): string {
  if (p.away) return 'connection dropped, may come back';
  if (isHost) return 'hosting';
  return p.webrtc_connected ? 'listening live' : 'connecting';
}

function Member({
  p,
  isHost,
  isMe,
  reactions,
  beat,
}: {
  p: ParticipantView;
  isHost: boolean;
  isMe: boolean;
  reactions: Reaction[];
  beat: string | null;
}) {
  const live = isHost ? !p.away : p.webrtc_connected && !p.away;
  return (
    <li className={`relative flex flex-col items-center gap-1 ${isHost ? 'w-full' : 'w-24'}`}>
      {/* Only the familiar fades while away: faded words would be too faint to read. */}
      <div className={`relative ${p.away ? 'opacity-50' : ''}`}>
        <div className={beat ? 'sway' : undefined} style={beat ? ({ '--beat': beat } as CSSProperties) : undefined}>
          <FamiliarAvatar familiar={p.familiar} size={isHost ? 76 : 52} />
        </div>
        {live && (
          <span className="absolute right-0 bottom-1 h-3 w-3 rounded-full border-2 border-night bg-moss" aria-hidden />
        )}
        {reactions.map((r) => (
          <span key={r.id} className="float-up pointer-events-none absolute top-0 left-1/2 text-3xl" aria-hidden>
            {REACTION_EMOJI[r.kind]}
          </span>
        ))}
      </div>
      <span className="max-w-full truncate text-sm font-medium">
        {p.username}
        {isMe && <span className="text-sand"> (you)</span>}
      </span>
      {isHost && <span className="text-xs tracking-widest text-ember uppercase">Host</span>}
      <span className="sr-only">, {statusText(p, isHost)}</span>
    </li>
  );
}

/** At most one reaction announcement this often; what comes between is said together. */
const ANNOUNCE_EVERY_MS = 3000;

function useReactionAnnouncement(reactions: Reaction[], participants: ParticipantView[], me: string | null): string {
  const [text, setText] = useState('');
  /** The last reaction announced, and when the next announcement may be made. */
  const said = useRef(0);
  const next = useRef(0);
  const newest = reactions.at(-1)?.id ?? 0;
  useEffect(() => {
    if (newest <= said.current) return;
    // Rescheduled on each new reaction, for the same moment: this render has them all.
    const timer = setTimeout(() => {
      const words = reactionAnnouncement(reactions, said.current, participants, me);
      said.current = newest;
      next.current = Date.now() + ANNOUNCE_EVERY_MS;
      // The same sentence again must still change the text for it to be read out again.
      if (words) setText((old) => (old === words ? `${words}\u00a0` : words));
    }, next.current - Date.now());
    return () => clearTimeout(timer);
  }, [newest]);
  return text;
}

export function Room({ participants, hostId, me, reactions, bpm, trackChangedAt }: RoomProps) {
  const announcement = useReactionAnnouncement(reactions, participants, me);
  const beat = bpm && bpm >= 30 && bpm <= 300 ? `${(60 / bpm).toFixed(3)}s` : null;
  const host = participants.find((p) => p.user_id === hostId);
  const others = participants.filter((p) => p.user_id !== hostId);
  const member = (p: ParticipantView) => (
    <Member
      key={p.user_id}
      p={p}
      isHost={p.user_id === hostId}
      isMe={p.user_id === me}
      reactions={reactions.filter((r) => r.user_id === p.user_id)}
      beat={beat}
    />
  );
  return (
    <section aria-labelledby="room-heading" className="card relative overflow-hidden">
      {trackChangedAt !== null && (
        <div key={trackChangedAt} className="room-glow pointer-events-none absolute inset-0" aria-hidden />
      )}
      <h2 id="room-heading" className="text-lg">
        In the room <span className="font-sans text-sm text-sand">· {participants.length}</span>
      </h2>
      {/* One list (the host first, on a row of its own), named apart from the host's "Listeners". */}
      <ul className="relative mt-4 flex flex-wrap justify-center gap-x-3 gap-y-5" aria-label="People in the room">
        {host && member(host)}
        {others.map(member)}
      </ul>
      {others.length === 0 && <p className="mt-4 text-center text-sm text-sand">No listeners yet.</p>}
      <p role="status" className="sr-only">
        {announcement}
      </p>
    </section>
  );
}
