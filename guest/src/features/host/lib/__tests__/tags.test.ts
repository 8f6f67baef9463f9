// Tests of the tag reading on real files (made by scripts/make-audio-fixtures.sh with ffmpeg):
// ID3v2 with a cover picture, Ogg Opus with Vorbis comments and none, a file that is not audio,
// and the file-name fallback and length cut.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cut, metaFromFileName, readTags } from '../tags';

const FIXTURES = join(__dirname, 'fixtures');
const fixture = (name: string, type: string) => new File([readFileSync(join(FIXTURES, name))], name, { type });

describe('readTags', () => {
  it('reads title, artist, album, duration and the cover from ID3v2', async () => {
    const tags = await readTags(fixture('01-morning-light.mp3', 'audio/mpeg'));
    expect(tags.meta).toEqual({ title: 'Morning Light', artist: 'The Fixtures', album: 'Test Pressings' });
    expect(tags.durationMs).toBeGreaterThan(3800);
    expect(tags.durationMs).toBeLessThan(4300);
    expect(tags.cover?.format).toBe('image/jpeg');
    // A JPEG starts with the SOI marker.
    expect([...(tags.cover?.data.slice(0, 2) ?? [])]).toEqual([0xff, 0xd8]);
  });

  it('tells two covers apart (each file its own picture)', async () => {
    const a = await readTags(fixture('01-morning-light.mp3', 'audio/mpeg'));
    const b = await readTags(fixture('02-second-wind.mp3', 'audio/mpeg'));
    expect(b.meta.title).toBe('Second Wind');
    expect(Buffer.from(a.cover!.data).equals(Buffer.from(b.cover!.data))).toBe(false);
  });

  it('reads Vorbis comments from Ogg Opus, with no cover', async () => {
    const tags = await readTags(fixture('03-third-time-lucky.ogg', 'audio/ogg'));
    expect(tags.meta).toEqual({ title: 'Third Time Lucky', artist: 'Ana & The Loops', album: 'B-Sides' });
    expect(tags.cover).toBeNull();
  });

  it('falls back to the file name for a file without tags', async () => {
    const file = new File([new Uint8Array(64).fill(7)], 'Nina Simone - Feeling Good.mp3', { type: 'audio/mpeg' });
    const tags = await readTags(file);
    expect(tags.meta).toEqual({ artist: 'Nina Simone', title: 'Feeling Good' });
    expect(tags.cover).toBeNull();
  });
});

describe('metaFromFileName and cut', () => {
  it('splits "Artist - Title" and keeps other names whole', () => {
    expect(metaFromFileName('A - B - C.flac')).toEqual({ artist: 'A', title: 'B - C' });
    expect(metaFromFileName('field_recording.wav')).toEqual({ title: 'field recording' });
    expect(metaFromFileName('.mp3')).toEqual({ title: 'Untitled' });
  });

  it('cuts to 200 characters without splitting an emoji, and drops empty strings', () => {
    expect(cut('x'.repeat(250))).toHaveLength(200);
    expect([...cut('🎵'.repeat(201))!]).toHaveLength(200);
    expect(cut('   ')).toBeUndefined();
    expect(cut(undefined)).toBeUndefined();
  });
});
