// The host's play queue as plain data: tracks in play order, which one is current, repeat
// (off, all, one) and shuffle; the moves a person makes (add, remove, reorder, jump, skip,
// previous) and the one the end of a track makes (advance); and what the player should have
// decoded ahead (`preloadPlan`). Pure functions over an immutable state, so it is tested without
// audio. Shuffle reorders only what is still to come, and turning it off restores the order the
// tracks were added in; repeat-all replays the same order.

export type Repeat = 'off' | 'all' | 'one';

export interface Entry<T> {
  id: string;
  /** Insertion order, to undo a shuffle. */
  added: number;
  data: T;
}

export interface QueueState<T> {
  /** In play order: what the list shows and "up next" reads. */
  items: Entry<T>[];
  /** The track playing or paused; null before the first and after the last. */
  current: string | null;
  repeat: Repeat;
  shuffle: boolean;
  nextAdded: number;
}

export function emptyQueue<T>(): QueueState<T> {
  return { items: [], current: null, repeat: 'off', shuffle: false, nextAdded: 0 };
}

export function indexOf<T>(q: QueueState<T>, id: string | null): number {
  return id === null ? -1 : q.items.findIndex((e) => e.id === id);
}

export function currentEntry<T>(q: QueueState<T>): Entry<T> | null {
  return q.items[indexOf(q, q.current)] ?? null;
}

/** Fisher–Yates over a copy; `random` returns [0, 1). */
function shuffled<X>(list: X[], random: () => number): X[] {
  const out = list.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as X, out[i] as X];
  }
  return out;
}

/**
 * Appends tracks (while shuffling, each lands at a random place among those still to come).
 * With nothing current (a new or finished queue), the first added becomes current, so Play
 * starts there.
 */
export function add<T>(q: QueueState<T>, tracks: { id: string; data: T }[], random: () => number = Math.random): QueueState<T> {
  const items = q.items.slice();
  let nextAdded = q.nextAdded;
  let firstNew: string | null = null;
  for (const t of tracks) {
    if (items.some((e) => e.id === t.id)) continue;
    const entry: Entry<T> = { id: t.id, added: nextAdded++, data: t.data };
    firstNew ??= t.id;
    if (q.shuffle) {
      const first = items.findIndex((e) => e.id === q.current) + 1;
      items.splice(first + Math.floor(random() * (items.length - first + 1)), 0, entry);
    } else items.push(entry);
  }
  return { ...q, items, nextAdded, current: q.current ?? firstNew };
}

/** Removes a track; removing the current one makes the next in line current (none at the end). */
export function remove<T>(q: QueueState<T>, id: string): QueueState<T> {
  const i = indexOf(q, id);
  if (i === -1) return q;
  const items = q.items.filter((e) => e.id !== id);
  if (q.current !== id) return { ...q, items };
  const wrap = q.repeat === 'all' && items.length > 0;
  const next = items[i] ?? (wrap ? items[0] : undefined);
  return { ...q, items, current: next?.id ?? null };
}

/** Moves a track to position `to` (clamped) in the play order. */
export function move<T>(q: QueueState<T>, id: string, to: number): QueueState<T> {
  const i = indexOf(q, id);
  if (i === -1) return q;
  const items = q.items.slice();
  const [entry] = items.splice(i, 1);
  items.splice(Math.max(0, Math.min(items.length, to)), 0, entry as Entry<T>);
  return { ...q, items };
}

export function jump<T>(q: QueueState<T>, id: string): QueueState<T> {
  return indexOf(q, id) === -1 ? q : { ...q, current: id };
}

/** The track after the current one in play order, ignoring repeat-one (what Skip plays). */
function after<T>(q: QueueState<T>): string | null {
  const i = indexOf(q, q.current);
  if (i === -1) return null;
  const next = q.items[i + 1] ?? (q.repeat === 'all' ? q.items[0] : undefined);
  return next?.id ?? null;
}

/** What plays when the current track ends by itself: the decision the player decodes ahead for. */
export function following<T>(q: QueueState<T>): string | null {
  if (q.current === null) return null;
  return q.repeat === 'one' ? q.current : after(q);
}

/** The current track ended: the following one becomes current (none after the last). */
export function advance<T>(q: QueueState<T>): QueueState<T> {
  return { ...q, current: following(q) };
}

/** The person skips: the next in line, even under repeat-one; none after the last. */
export function skip<T>(q: QueueState<T>): QueueState<T> {
  return { ...q, current: after(q) };
}

/** Back one track (wrapping under repeat-all); at the first, it stays (the player restarts it). */
export function previous<T>(q: QueueState<T>): QueueState<T> {
  const i = indexOf(q, q.current);
  if (i === -1) return { ...q, current: q.items.at(-1)?.id ?? null };
  const prev = q.items[i - 1] ?? (q.repeat === 'all' ? q.items.at(-1) : q.items[i]);
  return { ...q, current: prev?.id ?? null };
}

/** With nothing current (finished, or never started), Play starts from the top. */
export function startIfIdle<T>(q: QueueState<T>): QueueState<T> {
  return q.current !== null || q.items.length === 0 ? q : { ...q, current: (q.items[0] as Entry<T>).id };
}

export function setRepeat<T>(q: QueueState<T>, repeat: Repeat): QueueState<T> {
  return { ...q, repeat };
}

/** On: what is still to come is shuffled. Off: the order they were added in comes back. */
export function setShuffle<T>(q: QueueState<T>, on: boolean, random: () => number = Math.random): QueueState<T> {
  if (on === q.shuffle) return q;
  if (!on) return { ...q, shuffle: false, items: q.items.slice().sort((a, b) => a.added - b.added) };
  const split = indexOf(q, q.current) + 1;
  return { ...q, shuffle: true, items: [...q.items.slice(0, split), ...shuffled(q.items.slice(split), random)] };
}

/**
 * Up to `limit` tracks that will play after the current one, in order (wrapping under
 * repeat-all, never listing the current track again). Under repeat-one it lists what Skip leads to.
 */
export function upNext<T>(q: QueueState<T>, limit = 10): Entry<T>[] {
  const i = indexOf(q, q.current);
  if (i === -1) return [];
  const rest = q.items.slice(i + 1);
  if (q.repeat === 'all') rest.push(...q.items.slice(0, i));
  return rest.slice(0, limit);
}

/**
 * What the player should hold decoded: the current track and the one that follows it (decoded
 * ahead, so it starts the moment the current one ends); everything else can be let go.
 */
export function preloadPlan<T>(q: QueueState<T>): { keep: Set<string>; decodeNext: string | null } {
  const next = following(q);
  const keep = new Set<string>();
  if (q.current !== null) keep.add(q.current);
  if (next !== null) keep.add(next);
  return { keep, decodeNext: next !== q.current ? next : null };
}
