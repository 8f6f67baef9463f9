// The released Familiar app as a host, as it really behaves when its tab closes: a closed tab
// sends no `leave`, and the app never resumes. The relay runs with its production grace period
// (30 s), and the guest page must still say the session ended within seconds, because a host
// that never declared `resume` is a departure the moment its socket drops.

import { after, before, test } from 'node:test';
import { waitForAudio, waitForSilence } from '../lib/audio.mjs';
import { LAPTOP, people } from '../lib/browser.mjs';
import { serveFixtures } from '../lib/fixtures.mjs';
import { openAndJoin, waitConnected } from '../lib/guest.mjs';
import { startScriptedHost } from '../lib/host.mjs';
import { Relay } from '../lib/relay.mjs';
import { buildOnce, describePages, explain } from '../lib/setup.mjs';

const TEST_TIMEOUT = 180_000;

let relay;
let fixtures;

before(async () => {
  const { bin, static: staticPath } = buildOnce();
  relay = await Relay.start({
    bin,
    static: staticPath,
    name: 'relay-familiar',
    env: { RESUME_GRACE_MS: '30000' },
  });
  fixtures = await serveFixtures();
});

after(async () => {
  await fixtures?.close();
  await relay?.stop('SIGTERM');
});

test('8b. the Familiar app\'s tab closes without a leave: the guest sees the end within seconds', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, gP] = await people(t, [['familiar-closes', { viewport: LAPTOP }], ['lou']]);
  const host = await startScriptedHost(hostP, fixtures, relay, {
    track: { id: 'track-1', title: 'Old Man', artist: 'Neil Young', album: 'Harvest' },
  });
  const lou = await openAndJoin(gP, `${relay.origin}/listen/${host.code}`, 'Lou');
  await explain({ lou }, async () => {
    await waitConnected(lou);
    await waitForAudio(lou);
  });

  const closedAt = Date.now();
  // The fixture, like the app, has no unload handler that sends `leave`: only the socket closes.
  await host.page.close();
  try {
    await lou.getByRole('heading', { name: 'The session has ended' }).waitFor({ timeout: 5_000 });
  } catch (e) {
    const showing = await describePages({ lou });
    throw new Error(`the guest did not see "The session has ended" within 5 s of the Familiar tab closing; it showed:\n    ${showing}`, { cause: e });
  }
  t.diagnostic(`the guest saw the end ${Date.now() - closedAt} ms after the Familiar tab closed`);
  await waitForSilence(lou);
  const lookup = await fetch(`${relay.origin}/api/v1/sessions/by-code/${host.code}`);
  if (lookup.status !== 404) throw new Error(`by-code still answers ${lookup.status} for the ended session`);
});
