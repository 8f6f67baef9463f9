// What a local audio file says about itself: title, artist, album, duration and its cover
// picture, read from its tags (ID3, Vorbis comments, MP4 atoms, …) in the browser by
// music-metadata. A file without usable tags falls back to its name ("Artist - Title.mp3").

import { parseBlob, selectCover } from 'music-metadata';
import type { TrackMeta } from '../../../protocol/wire';

/** The relay keeps track strings to 200 characters; the host shows what guests will see. */
export const META_MAX_CHARS = 200;

export interface Picture {
  data: Uint8Array;
  /** A MIME type such as image/jpeg. */
  format: string;
}

export interface TrackTags {
  meta: Pick<TrackMeta, 'title' | 'artist' | 'album'> & { title: string };
  cover: Picture | null;
  durationMs: number | null;
}

/** Cuts to `max` characters (code points, so an emoji is never split), trimmed; undefined if empty. */
export function cut(value: string | undefined | null, max = META_MAX_CHARS): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  const chars = [...trimmed];
  return chars.length > max ? chars.slice(0, max).join('').trimEnd() : trimmed;
}

/** "Artist - Title.mp3" → {artist, title}; otherwise the file name is the title. */
export function metaFromFileName(name: string): TrackTags['meta'] {
  const base = name.replace(/\.[a-z0-9]{1,5}$/i, '').replace(/_/g, ' ').trim() || 'Untitled';
  const parts = base.split(' - ');
  if (parts.length >= 2 && parts[0]?.trim()) {
    return { artist: cut(parts[0]), title: cut(parts.slice(1).join(' - ')) ?? 'Untitled' };
  }
  return { title: cut(base) ?? 'Untitled' };
}

/** Reads `file`'s tags; never throws (an unreadable file gets its name as the title). */
export async function readTags(file: File): Promise<TrackTags> {
  const fromName = metaFromFileName(file.name);
  try {
    const { common, format } = await parseBlob(file, { duration: false });
    const title = cut(common.title);
    const artist = cut(common.artist ?? common.albumartist);
    const album = cut(common.album);
    const picture = selectCover(common.picture);
    return {
      meta: title
        ? { title, ...(artist ? { artist } : {}), ...(album ? { album } : {}) }
        : { ...fromName, ...(artist && !fromName.artist ? { artist } : {}), ...(album ? { album } : {}) },
      cover: picture ? { data: picture.data, format: picture.format } : null,
      durationMs: typeof format.duration === 'number' && format.duration > 0 ? Math.round(format.duration * 1000) : null,
    };
  } catch {
    return { meta: fromName, cover: null, durationMs: null };
  }
}
