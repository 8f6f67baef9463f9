// Tests of the play queue: adding, removing, reordering, jumping, skipping, going back, the end
// of a track under each repeat mode, shuffle on and off, "up next", and what to decode ahead.

import { describe, expect, it } from 'vitest';
import {
  add,
  advance,
  emptyQueue,
  following,
  jump,
  move,
  preloadPlan,
  previous,
  remove,
  setRepeat,
  setShuffle,
  skip,
  startIfIdle,
  upNext,
  type QueueState,
} from '../queue';

const ids = (q: QueueState<string>) => q.items.map((e) => e.id);
const queueOf = (...names: string[]) => add(emptyQueue<string>(), names.map((id) => ({ id, data: `${id}.mp3` })));
/** A deterministic "random" that walks through the given values. */
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('adding and removing', () => {
  it('appends in order and makes the first track current', () => {
    const q = queueOf('a', 'b', 'c');
    expect(ids(q)).toEqual(['a', 'b', 'c']);
    expect(q.current).toBe('a');
    expect(q.items[1]?.data).toBe('b.mp3');
  });

  it('ignores a track that is already queued', () => {
    expect(ids(add(queueOf('a', 'b'), [{ id: 'a', data: 'again' }]))).toEqual(['a', 'b']);
  });

  it('makes the first new track current once a finished queue gets more', () => {
    const done = advance(queueOf('a'));
    expect(done.current).toBeNull();
    expect(add(done, [{ id: 'x', data: '' }]).current).toBe('x');
  });

  it('removing the current track makes the next one current, or none after the last', () => {
    const q = queueOf('a', 'b', 'c');
    expect(remove(q, 'a').current).toBe('b');
    expect(remove(jump(q, 'c'), 'c').current).toBeNull();
    expect(remove(setRepeat(jump(q, 'c'), 'all'), 'c').current).toBe('a');
    expect(ids(remove(q, 'b'))).toEqual(['a', 'c']);
    expect(remove(q, 'b').current).toBe('a');
    expect(remove(q, 'nope')).toBe(q);
  });
});

describe('reordering, jumping, skipping', () => {
  it('moves a track to a new place, clamped to the list', () => {
    const q = queueOf('a', 'b', 'c', 'd');
    expect(ids(move(q, 'd', 1))).toEqual(['a', 'd', 'b', 'c']);
    expect(ids(move(q, 'a', 99))).toEqual(['b', 'c', 'd', 'a']);
    expect(ids(move(q, 'c', -5))).toEqual(['c', 'a', 'b', 'd']);
    // The current track stays current wherever it goes.
    expect(move(q, 'a', 3).current).toBe('a');
  });

  it('a reorder changes what follows', () => {
    const q = move(queueOf('a', 'b', 'c'), 'c', 1);
    expect(following(q)).toBe('c');
  });

  it('jumps to a queued track only', () => {
    const q = queueOf('a', 'b', 'c');
    expect(jump(q, 'c').current).toBe('c');
    expect(jump(q, 'zz')).toBe(q);
  });

  it('skip goes to the next, past repeat-one, and off the end unless repeat-all', () => {
    const q = queueOf('a', 'b');
    expect(skip(q).current).toBe('b');
    expect(skip(setRepeat(q, 'one')).current).toBe('b');
    expect(skip(skip(q)).current).toBeNull();
    expect(skip(skip(setRepeat(q, 'all'))).current).toBe('a');
  });

  it('previous goes back one, stays on the first, wraps under repeat-all', () => {
    const q = jump(queueOf('a', 'b', 'c'), 'b');
    expect(previous(q).current).toBe('a');
    expect(previous(previous(q)).current).toBe('a');
    expect(previous(setRepeat(jump(q, 'a'), 'all')).current).toBe('c');
    // After the end, back is the last track.
    expect(previous(skip(jump(q, 'c'))).current).toBe('c');
  });

  it('Play on a finished queue starts from the top', () => {
    const done = skip(skip(queueOf('a', 'b')));
    expect(startIfIdle(done).current).toBe('a');
    expect(startIfIdle(emptyQueue<string>()).current).toBeNull();
  });
});

describe('the end of a track, by repeat mode', () => {
  it('off: the next, then nothing', () => {
    const q = queueOf('a', 'b');
    expect(advance(q).current).toBe('b');
    expect(advance(advance(q)).current).toBeNull();
  });

  it('all: wraps to the first', () => {
    const q = setRepeat(jump(queueOf('a', 'b'), 'b'), 'all');
    expect(advance(q).current).toBe('a');
  });

  it('one: the same track again', () => {
    const q = setRepeat(queueOf('a', 'b'), 'one');
    expect(advance(q).current).toBe('a');
  });
});

describe('shuffle', () => {
  it('shuffles only what is still to come and restores the added order when off', () => {
    const q = jump(queueOf('a', 'b', 'c', 'd', 'e'), 'b');
    // Fisher–Yates with these draws turns c d e into d e c.
    const on = setShuffle(q, true, seq(0, 0));
    expect(ids(on).slice(0, 2)).toEqual(['a', 'b']);
    expect(ids(on).slice(2)).toEqual(['d', 'e', 'c']);
    expect(ids(on)).not.toEqual(ids(q));
    expect(on.current).toBe('b');
    const off = setShuffle(on, false);
    expect(ids(off)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(off.current).toBe('b');
  });

  it('while on, new tracks land among those to come, never before the current one', () => {
    let q = setShuffle(jump(queueOf('a', 'b', 'c'), 'b'), true, seq(0.5));
    q = add(q, [{ id: 'x', data: '' }], seq(0));
    expect(ids(q).indexOf('x')).toBe(2);
    q = add(q, [{ id: 'y', data: '' }], seq(0.999));
    expect(ids(q).at(-1)).toBe('y');
    expect(ids(setShuffle(q, false))).toEqual(['a', 'b', 'c', 'x', 'y']);
  });

  it('turning it on twice changes nothing the second time', () => {
    const on = setShuffle(queueOf('a', 'b', 'c'), true, seq(0.3));
    expect(setShuffle(on, true, seq(0.9))).toBe(on);
  });
});

describe('up next', () => {
  it('lists what follows the current track, at most `limit`', () => {
    const q = jump(queueOf('a', 'b', 'c', 'd'), 'b');
    expect(upNext(q).map((e) => e.id)).toEqual(['c', 'd']);
    expect(upNext(q, 1).map((e) => e.id)).toEqual(['c']);
  });

  it('wraps under repeat-all without listing the current track', () => {
    const q = setRepeat(jump(queueOf('a', 'b', 'c'), 'b'), 'all');
    expect(upNext(q).map((e) => e.id)).toEqual(['c', 'a']);
  });

  it('caps a long queue at ten', () => {
    const q = queueOf(...Array.from({ length: 30 }, (_, i) => `t${i}`));
    expect(upNext(q)).toHaveLength(10);
  });

  it('is empty with nothing current', () => {
    expect(upNext(skip(queueOf('a')))).toEqual([]);
  });
});

describe('what to decode ahead', () => {
  it('keeps the current and the following track, and decodes the following one', () => {
    const plan = preloadPlan(queueOf('a', 'b', 'c'));
    expect([...plan.keep].sort()).toEqual(['a', 'b']);
    expect(plan.decodeNext).toBe('b');
  });

  it('follows a reorder: the moved-up track is decoded instead', () => {
    expect(preloadPlan(move(queueOf('a', 'b', 'c'), 'c', 1)).decodeNext).toBe('c');
  });

  it('decodes nothing more on the last track, the first under repeat-all, nothing new under repeat-one', () => {
    const last = jump(queueOf('a', 'b', 'c'), 'c');
    expect(preloadPlan(last).decodeNext).toBeNull();
    expect([...preloadPlan(last).keep]).toEqual(['c']);
    expect(preloadPlan(setRepeat(last, 'all')).decodeNext).toBe('a');
    const one = preloadPlan(setRepeat(last, 'one'));
    expect(one.decodeNext).toBeNull();
    expect([...one.keep]).toEqual(['c']);
  });

  it('holds nothing once the queue is finished', () => {
    expect(preloadPlan(skip(queueOf('a'))).keep.size).toBe(0);
  });
});
