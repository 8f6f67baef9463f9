// The four reactions, in one place: the kinds the relay passes on, the emoji that floats for
// each, and the words a screen reader says. The kinds are a hand copy of the relay's list; when
// the generated wire types carry a `ReactionKind` union, `ReactionKind` below becomes a re-export
// of it and the tables keep compiling against it (each is a Record over every kind).

export const REACTION_KINDS = ['cheer', 'pulse', 'wave', 'spark'] as const;
export type ReactionKind = (typeof REACTION_KINDS)[number];

export function isReactionKind(kind: string): kind is ReactionKind {
  return (REACTION_KINDS as readonly string[]).includes(kind);
}

export const REACTION_EMOJI: Record<ReactionKind, string> = {
  cheer: '🙌',
  pulse: '💓',
  wave: '👋',
  spark: '✨',
};

/** "Ana cheered": what each kind says in the screen-reader sentence. */
export const REACTION_VERBS: Record<ReactionKind, string> = {
  cheer: 'cheered',
  pulse: 'sent a pulse',
  wave: 'waved',
  spark: 'sent a spark',
};
