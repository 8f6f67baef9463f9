// The four reactions everyone can send; each floats over the sender's familiar in the room.

import { capitalize } from '../lib/familiar';
import { REACTION_EMOJI, REACTION_KINDS, type ReactionKind } from '../room/reactions';

export function ReactionBar({ onReact }: { onReact: (kind: ReactionKind) => void }) {
  return (
    <div role="group" aria-label="Reactions" className="grid grid-cols-4 gap-2">
      {REACTION_KINDS.map((kind) => (
        <button key={kind} type="button" className="btn-ghost h-auto flex-col gap-0.5 px-2 py-2" onClick={() => onReact(kind)}>
          <span aria-hidden className="text-2xl leading-none">
            {REACTION_EMOJI[kind]}
          </span>
          <span className="text-xs">{capitalize(kind)}</span>
        </button>
      ))}
    </div>
  );
}
