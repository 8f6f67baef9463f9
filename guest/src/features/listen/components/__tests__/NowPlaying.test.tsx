// @vitest-environment happy-dom
// Tests of the guest's "Now playing" card with what the host page adds: the cover beside the
// title, and the "Up next" list, which is absent while the relay does not pass `up_next` on.

import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from '../../../../__tests__/dom';
import type { RemoteAudio } from '../../hooks/useRemoteAudio';
import { NowPlaying } from '../NowPlaying';

const audio = { level: () => 0, muted: false, setMuted: () => {}, volume: 1, setVolume: () => {} } as unknown as RemoteAudio;
const clock = { trackId: 'queue-2', isPlaying: true, positionMs: 0, receivedAt: 0 };
const meta = { title: 'Morning Light', artist: 'The Fixtures' };

afterEach(cleanup);

describe('NowPlaying', () => {
  it('shows the cover and what is up next, in order', () => {
    const { container } = render(
      <NowPlaying meta={meta} clock={clock} audio={audio} cover="data:image/jpeg;base64,AAAA" upNext={[{ title: 'Second Wind', artist: 'The Fixtures' }, {}]} />,
    );
    const img = container.querySelector('img');
    expect(img?.getAttribute('alt')).toBe('Cover of Morning Light');
    expect(img?.getAttribute('src')).toBe('data:image/jpeg;base64,AAAA');
    const list = container.querySelector('ol[aria-labelledby="up-next-heading"]');
    expect([...(list?.querySelectorAll('li') ?? [])].map((li) => li.textContent)).toEqual(['Second Wind · The Fixtures', 'Untitled track']);
    expect(container.querySelector('#up-next-heading')?.textContent).toBe('Up next');
  });

  it('shows neither without a cover or a list (an older relay, or the end of the queue)', () => {
    for (const upNext of [null, []]) {
      const { container, unmount } = render(<NowPlaying meta={meta} clock={clock} audio={audio} cover={null} upNext={upNext} />);
      expect(container.querySelector('img')).toBeNull();
      expect(container.textContent).not.toContain('Up next');
      expect(container.querySelector('h2')?.textContent).toBe('Morning Light');
      unmount();
    }
  });
});
