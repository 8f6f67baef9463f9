// A track's cover as guests get it: the tag's picture scaled down to a small JPEG (at most
// THUMB_PX on its longer side) as a data: URL, small enough for one data-channel message.
// Browser-only (createImageBitmap and a canvas); a picture the browser cannot decode gives null.

import type { Picture } from './tags';

export const THUMB_PX = 160;
/** A JPEG this size at this quality is a few KB; the cap keeps one message well under 64 KB. */
const QUALITY = 0.8;
export const THUMB_MAX_CHARS = 48_000;

export async function makeThumbnail(picture: Picture): Promise<string | null> {
  try {
    const bitmap = await createImageBitmap(new Blob([picture.data as BlobPart], { type: picture.format }));
    const scale = Math.min(1, THUMB_PX / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d');
    if (!g) return null;
    g.drawImage(bitmap, 0, 0, w, h);
    bitmap.close();
    const url = canvas.toDataURL('image/jpeg', QUALITY);
    return url.startsWith('data:image/jpeg') && url.length <= THUMB_MAX_CHARS ? url : null;
  } catch {
    return null;
  }
}
