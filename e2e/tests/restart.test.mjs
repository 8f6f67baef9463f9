// Scenario 9 (issue 6): a relay restart is invisible to a listener. The relay runs with a fixed
// SESSION_SECRET (so resume tokens outlive the process) and a short RESTART_RETRY_AFTER_MS; a
// host page streams the test tone to a guest; the relay is stopped (SIGTERM: it drains and tells
// clients `server_restarting`; SIGKILL: it just vanishes) and started again on the same port.
// The guest's received level is sampled every 100 ms throughout: the audio flows peer to peer,
// so it must never go silent for more than a moment; both pages must get back into the session
// by themselves, and chat must work afterwards.

import { test } from 'node:test';
import { waitForAudio } from '../lib/audio.mjs';
import { LAPTOP, people } from '../lib/browser.mjs';
import { openAndJoin, waitConnected } from '../lib/guest.mjs';
import { hostListEntry, startHostPage } from '../lib/host.mjs';
import { relayRestartKeepsAudio } from '../lib/scenarios.mjs';
import { explain, relayForFile } from '../lib/setup.mjs';

const TEST_TIMEOUT = 180_000;

let relay;

relayForFile('relay-restart', (r) => (relay = r), { restartable: true });

async function restartScenario(t, signal, tag) {
  const [hostP, guestP] = await people(t, [[`host-${tag}`, { viewport: LAPTOP }], [`guest-${tag}`]]);
  const host = await startHostPage(hostP, relay, { name: `Restart ${tag}`, username: 'Rae' });
  const guest = await openAndJoin(guestP, host.link, 'Sam');
  await explain({ host: host.page, guest }, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  await hostListEntry(host.page, 'Sam').filter({ hasText: /Connected/ }).waitFor();
  await relayRestartKeepsAudio(t, relay, { host: host.page, guest, guestName: 'Sam', signal, tag, screenshots: signal === 'SIGTERM' });
}

test('9a. relay restart (SIGTERM, drained): audio keeps playing, both pages resume, chat works', { timeout: TEST_TIMEOUT }, (t) =>
  restartScenario(t, 'SIGTERM', 'term'),
);

test('9b. relay crash (SIGKILL) and restart: audio keeps playing, both pages resume, chat works', { timeout: TEST_TIMEOUT }, (t) =>
  restartScenario(t, 'SIGKILL', 'kill'),
);
