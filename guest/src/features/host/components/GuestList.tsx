// The host's list of listeners: how each one's audio connected (direct, STUN, TURN, or where it
// failed, as their browser reported it) and a button to remove them.

import { FamiliarAvatar } from '../../../components/FamiliarAvatar';
import type { ParticipantView } from '../../../protocol/wire';
import type { LinkInfo } from '../../../room/state';

const PATH_TEXT = { direct: 'Connected directly', stun: 'Connected via STUN', turn: 'Connected via TURN' };

export function linkText(p: ParticipantView, link: LinkInfo | undefined): string {
  if (p.away) return 'Connection dropped, may come back';
  if (!link) return 'Connecting…';
  if (link.connected) return link.path ? PATH_TEXT[link.path] : 'Connected';
  return link.failedStage ? `Could not connect (failed at ${link.failedStage})` : 'Disconnected';
}

interface GuestListProps {
  guests: ParticipantView[];
  links: Record<string, LinkInfo>;
  onKick: (userId: string) => void;
}

export function GuestList({ guests, links, onKick }: GuestListProps) {
  return (
    <section aria-labelledby="guests-heading" className="card">
      <h2 id="guests-heading" className="text-lg">
        Listeners <span className="font-sans text-sm text-sand">· {guests.length}</span>
      </h2>
      {guests.length === 0 ? (
        <p className="mt-2 text-sand">Nobody yet. Share the link and they'll appear here.</p>
      ) : (
        <ul className="mt-3 divide-y" aria-label="Listeners">
          {guests.map((p) => {
            const link = links[p.user_id];
            const ok = link?.connected && !p.away;
            return (
              <li key={p.user_id} className="flex items-center gap-3 py-2.5">
                <FamiliarAvatar familiar={p.familiar} size={36} />
                <div className="min-w-0 flex-1">
                  <p className="truncate font-medium">{p.username}</p>
                  <p className={`text-sm ${ok ? 'text-moss' : link && !link.connected ? 'text-alert' : 'text-sand'}`}>
                    {linkText(p, link)}
                  </p>
                </div>
                <button type="button" className="btn-ghost min-h-9 px-4 text-sm" aria-label={`Kick ${p.username}`} onClick={() => onKick(p.user_id)}>
                  Kick
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
