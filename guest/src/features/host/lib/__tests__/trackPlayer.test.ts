// Tests of the gapless player's scheduling over a stand-in AudioContext (Node has no Web Audio):
// the following track is scheduled on the exact time the current one ends, a change of mind
// cancels it, pause and resume keep the place, a late decode falls back to starting at the end,
// and buffers the queue no longer needs are let go.

import { describe, expect, it } from 'vitest';
import { TrackPlayer } from '../trackPlayer';

class FakeSource {
  buffer: { duration: number; name: string } | null = null;
  startedAt: number | null = null;
  offset = 0;
  stopped = false;
  onended: (() => void) | null = null;
  connect() {}
  disconnect() {}
  start(when: number, offset: number) {
    this.startedAt = when;
    this.offset = offset;
  }
  stop() {
    this.stopped = true;
  }
}

class FakeContext {
  currentTime = 10;
  sources: FakeSource[] = [];
  /** Resolves each decode by hand when set, to model a slow one. */
  hold: (() => void)[] | null = null;
  createBufferSource() {
    const s = new FakeSource();
    this.sources.push(s);
    return s;
  }
  async decodeAudioData(data: ArrayBuffer) {
    const [name, seconds] = new TextDecoder().decode(data).split(':');
    if (this.hold) await new Promise<void>((r) => this.hold!.push(r));
    return { duration: Number(seconds), name };
  }
}

const file = (name: string, seconds: number) => new Blob([`${name}:${seconds}`]);
const flush = () => new Promise((r) => setTimeout(r, 0));

function setup() {
  const ctx = new FakeContext();
  const player = new TrackPlayer(ctx as unknown as BaseAudioContext, {} as AudioNode);
  const advanced: (string | null)[] = [];
  player.onAdvance = (id) => advanced.push(id);
  const playing = (name: string) => ctx.sources.filter((s) => s.buffer?.name === name && !s.stopped);
  return { ctx, player, advanced, playing };
}

describe('TrackPlayer', () => {
  it('schedules the following track on the sample the current one ends, and hands over to it', async () => {
    const { ctx, player, advanced, playing } = setup();
    await player.play('a', file('a', 4));
    const [a] = playing('a');
    expect(a?.startedAt).toBeCloseTo(10.03);
    player.setNext({ id: 'b', file: file('b', 3) });
    await flush();
    const [b] = playing('b');
    expect(b?.startedAt).toBeCloseTo(14.03);
    expect(b?.startedAt).toBe((a?.startedAt ?? 0) + 4);
    ctx.currentTime = 14.05;
    a?.onended?.();
    expect(advanced).toEqual(['b']);
    expect(player.currentId).toBe('b');
    expect(player.positionMs()).toBeCloseTo(20);
  });

  it('a change of mind cancels the scheduled track and schedules the new one at the same time', async () => {
    const { player, playing } = setup();
    await player.play('a', file('a', 4));
    player.setNext({ id: 'b', file: file('b', 3) });
    await flush();
    const [b] = playing('b');
    player.setNext({ id: 'c', file: file('c', 5) });
    await flush();
    expect(b?.stopped).toBe(true);
    expect(playing('c')[0]?.startedAt).toBeCloseTo(14.03);
    player.setNext(null);
    expect(playing('c')).toHaveLength(0);
  });

  it('pause keeps the place and play carries on from it', async () => {
    const { ctx, player, playing } = setup();
    await player.play('a', file('a', 4));
    player.setNext({ id: 'b', file: file('b', 3) });
    await flush();
    ctx.currentTime = 11.53;
    player.pause();
    expect(player.isPlaying).toBe(false);
    expect(player.positionMs()).toBeCloseTo(1500);
    expect(playing('a')).toHaveLength(0);
    expect(playing('b')).toHaveLength(0);
    await player.play('a', file('a', 4), player.positionMs() / 1000);
    expect(playing('a')[0]?.offset).toBeCloseTo(1.5);
  });

  it('a decode that finishes after the current track ended leaves the start to the end of it', async () => {
    const { ctx, player, advanced, playing } = setup();
    await player.play('a', file('a', 1));
    ctx.hold = [];
    player.setNext({ id: 'b', file: file('b', 3) });
    await flush();
    ctx.currentTime = 12;
    for (const release of ctx.hold) release();
    await flush();
    expect(playing('b')).toHaveLength(0);
    playing('a')[0]?.onended?.();
    expect(advanced).toEqual([null]);
  });

  it('decodes once per track and lets go of what the queue no longer keeps', async () => {
    const { player } = setup();
    await player.play('a', file('a', 4));
    player.setNext({ id: 'b', file: file('b', 3) });
    await flush();
    expect(player.isDecoded('a') && player.isDecoded('b')).toBe(true);
    player.retain(new Set(['b']));
    expect(player.isDecoded('a')).toBe(false);
    expect(player.isDecoded('b')).toBe(true);
  });

  it('a stopped track never reports an end', async () => {
    const { player, advanced, ctx } = setup();
    await player.play('a', file('a', 4));
    player.stop();
    ctx.sources[0]?.onended?.();
    expect(advanced).toEqual([]);
    expect(player.currentId).toBeNull();
  });
});
