// Tests of the cover messages on the data channel: what the host encodes the guest reads back,
// and anything else (not JSON, no track id, not a JPEG data: URL, too long) is ignored.

import { describe, expect, it } from 'vitest';
import { COVER_MAX_CHARS, encodeCover, readCoverMessage } from '../coverChannel';

const jpeg = 'data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==';

describe('cover messages', () => {
  it('round-trips a cover and a track without one', () => {
    expect(readCoverMessage(encodeCover({ track_id: 'queue-3', jpeg }))).toEqual({ track_id: 'queue-3', jpeg });
    expect(readCoverMessage(encodeCover({ track_id: 'tone-1', jpeg: null }))).toEqual({ track_id: 'tone-1', jpeg: null });
  });

  it('ignores what is not a cover message', () => {
    for (const data of [
      'not json',
      '42',
      JSON.stringify({ jpeg }),
      JSON.stringify({ track_id: 1, jpeg }),
      JSON.stringify({ track_id: 't', jpeg: 'https://example.org/cover.jpg' }),
      JSON.stringify({ track_id: 't', jpeg: 'data:image/svg+xml;base64,PHN2Zz4=' }),
      JSON.stringify({ track_id: 't', jpeg: 'data:image/jpeg;base64,"><script>' }),
      JSON.stringify({ track_id: 't', jpeg: `data:image/jpeg;base64,${'A'.repeat(COVER_MAX_CHARS)}` }),
      new ArrayBuffer(8),
    ]) {
      expect(readCoverMessage(data)).toBeNull();
    }
  });
});
