// Tests of the share card's QR matrix (uqr underneath) by decoding it with an independent reader
// (jsQR), across the version range and at every length boundary a share link could hit.

import jsQR from 'jsqr';
import { describe, expect, it } from 'vitest';
import { encodeQr } from '../qr';

/** Renders the matrix as RGBA pixels with a quiet zone, as a camera would see it. */
function decode(grid: boolean[][]): string | null {
  const scale = 4;
  const quiet = 4;
  const n = grid.length + quiet * 2;
  const px = n * scale;
  const rgba = new Uint8ClampedArray(px * px * 4).fill(255);
  grid.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + quiet) * scale + dy) * px + (x + quiet) * scale + dx) * 4;
          rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
        }
      }
    }),
  );
  return jsQR(rgba, px, px)?.data ?? null;
}

describe('encodeQr', () => {
  it('encodes a share link that a reader decodes', () => {
    const link = 'https://relay.example.org/listen/K7QX2M';
    const grid = encodeQr(link);
    expect(grid.length).toBe(29); // version 3 at level M
    expect(decode(grid)).toBe(link);
  });

  it.each([1, 12, 13, 14, 26, 27, 42, 43, 62, 63, 84, 85, 106, 107, 122, 123, 152, 153, 180, 181, 212])(
    'round-trips %i bytes',
    (len) => {
      const text = 'https://x.example/listen/'.concat('ABCDEFGHJKMNPQRSTUVWXYZ23456789'.repeat(8)).slice(0, len);
      const grid = encodeQr(text);
      expect(decode(grid)).toBe(text);
    },
  );

  it('reaches version 7+ (version information blocks) correctly', () => {
    const text = 'v'.repeat(130);
    const grid = encodeQr(text);
    expect(grid.length).toBeGreaterThanOrEqual(45);
    expect(decode(grid)).toBe(text);
  });

  it('encodes UTF-8', () => {
    expect(decode(encodeQr('https://café.example/listen/ÄÖ'))).toBe('https://café.example/listen/ÄÖ');
  });

  it('encodes a long link beyond version 10 as well', () => {
    const text = 'https://relay.example.org/listen/'.concat('x'.repeat(300));
    const grid = encodeQr(text);
    expect(grid.length).toBeGreaterThan(57);
    expect(decode(grid)).toBe(text);
  });
});
