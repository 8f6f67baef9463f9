// The share link as a QR matrix, from a maintained encoder (uqr): level M, the smallest version
// that fits, no border (the component draws the quiet zone).

import { encode } from 'uqr';

/** Rows of modules, `true` for dark, square. */
export function encodeQr(text: string): boolean[][] {
  return encode(text, { ecc: 'M', border: 0 }).data;
}
