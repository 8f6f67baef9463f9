// The familiar (avatar) choices the contract allows, with names people read, and the defaults.

import type { Accent, Familiar, Variant } from '../protocol/wire';

export const VARIANTS: readonly Variant[] = ['halo', 'ember', 'prism'];
export const ACCENTS: readonly Accent[] = ['drift', 'orbit', 'ripple'];

/** A warm palette that reads well on the dark room; names are what the picker announces. */
export const COLORS: readonly { name: string; value: string }[] = [
  { name: 'Sky', value: '#7dd3fc' },
  { name: 'Amber', value: '#f5b454' },
  { name: 'Coral', value: '#ff8f6b' },
  { name: 'Rose', value: '#f472b6' },
  { name: 'Violet', value: '#a78bfa' },
  { name: 'Mint', value: '#6ee7b7' },
  { name: 'Lime', value: '#bef264' },
  { name: 'Pearl', value: '#e7e0d6' },
];

export const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** The contract's default seed: the sum of the name's code points, mod 10000. */
export function seedFor(name: string): number {
  let sum = 0;
  for (const ch of name) sum += ch.codePointAt(0) ?? 0;
  return sum % 10000;
}

export function isFamiliar(v: unknown): v is Familiar {
  if (!v || typeof v !== 'object') return false;
  const f = v as Record<string, unknown>;
  return (
    VARIANTS.includes(f.variant as Variant) &&
    ACCENTS.includes(f.accent as Accent) &&
    typeof f.color === 'string' &&
    /^#[0-9a-f]{6}$/.test(f.color) &&
    typeof f.seed === 'number'
  );
}

/** A first familiar for someone new: a random shape and colour so a room is not all alike. */
export function randomFamiliar(random: () => number = Math.random): Familiar {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return {
    variant: pick(VARIANTS),
    color: pick(COLORS).value,
    accent: pick(ACCENTS),
    seed: Math.floor(random() * 10000),
  };
}
