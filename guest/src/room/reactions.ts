// The four reactions, in one place: the emoji that floats for each kind and the words a screen
// reader says. The kinds themselves are the relay's (`ReactionKind`, generated into wire.ts);
// each table is a Record over every kind, so a new kind does not compile until it has both.

import type { ReactionKind } from '../protocol/wire';

export type { ReactionKind };

export function isReactionKind(kind: string): kind is ReactionKind {
  return (REACTION_KINDS as readonly string[]).includes(kind);
}

export const REACTION_EMOJI: Record<ReactionKind, string> = {
  cheer: '🙌',
  pulse: '💓',
  wave: '👋',
  spark: '✨',
};

/** Every kind, in the order the reaction bar shows them. */
export const REACTION_KINDS = Object.keys(REACTION_EMOJI) as ReactionKind[];

/** "Ana cheered": what each kind says in the screen-reader sentence. */
export const REACTION_VERBS: Record<ReactionKind, string> = {
  cheer: 'cheered',
  pulse: 'sent a pulse',
  wave: 'waved',
  spark: 'sent a spark',
};
