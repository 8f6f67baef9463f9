// Scenario 9 (issue 6): a relay restart is invisible to a listener. The relay runs with a fixed
// SESSION_SECRET (so resume tokens outlive the process) and a short RESTART_RETRY_AFTER_MS; a
// host page streams the test tone to a guest; the relay is stopped (SIGTERM: it drains and tells
// clients `server_restarting`; SIGKILL: it just vanishes) and started again on the same port.
// The guest's received level is sampled every 100 ms throughout: the audio flows peer to peer,
// so it must never go silent for more than a moment; both pages must get back into the session
// by themselves, and chat must work afterwards.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SILENT, installProbe, longestSilence, waitForAudio } from '../lib/audio.mjs';
import { LAPTOP, people } from '../lib/browser.mjs';
import { chatLog, openAndJoin, sendChat, shot, waitConnected, waitForState } from '../lib/guest.mjs';
import { hostListEntry, startHostPage } from '../lib/host.mjs';
import { Relay } from '../lib/relay.mjs';
import { buildOnce, explain } from '../lib/setup.mjs';

const TEST_TIMEOUT = 180_000;
/** The longest the guest may hear silence while the relay is away ("a moment"; generous for a loaded machine: the peer-connection check below is the strict one). */
const MAX_SILENCE_MS = 1_500;

let relay;

before(async () => {
  const { bin, static: staticPath } = buildOnce();
  relay = await Relay.start({
    bin,
    static: staticPath,
    name: 'relay-restart',
    env: {
      SESSION_SECRET: 'e2e-restart-secret-0123456789abcdef',
      RESTART_RETRY_AFTER_MS: '300',
      SHUTDOWN_DRAIN_MS: '2000',
    },
  });
});

after(async () => {
  await relay?.stop('SIGTERM');
});

/** The peer connections a page made, with their state changes (see lib/browser.mjs). */
function peerRecords(page) {
  return page.evaluate(() => (window.__e2ePeers ?? []).map((r) => ({ states: r.states.map(([, state]) => state) })));
}

function hostState(page) {
  return page.evaluate(() => window.__familiar?.state?.() ?? null);
}

async function restartScenario(t, signal, tag) {
  const [hostP, guestP] = await people(t, [[`host-${tag}`, { viewport: LAPTOP }], [`guest-${tag}`]]);
  const host = await startHostPage(hostP, relay, { name: `Restart ${tag}`, username: 'Rae' });
  const guest = await openAndJoin(guestP, host.link, 'Sam');
  const pages = { host: host.page, guest };
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  await hostListEntry(host.page, 'Sam').filter({ hasText: /Connected/ }).waitFor();

  await installProbe(guest);
  await guest.evaluate(() => window.__e2eAudio.startSampling());
  const peersBefore = { guest: await peerRecords(guest), host: await peerRecords(host.page) };
  const t0 = Date.now();

  const exit = await relay.stop(signal);
  t.diagnostic(`relay stopped by ${signal} after ${Date.now() - t0} ms: ${JSON.stringify(exit)}`);
  // Both pages notice the relay is gone (and say so) before it comes back.
  await explain(pages, async () => {
    await waitForState(guest, ['restarting', 'reconnecting', 'unreachable'], 15_000);
    await host.page.waitForFunction(() => window.__familiar?.state?.() !== 'live', null, { timeout: 15_000 });
  });
  const downState = { guest: await guest.evaluate(() => window.__familiar.state()), host: await hostState(host.page) };
  t.diagnostic(`while down: guest=${downState.guest} host=${downState.host}`);
  if (signal === 'SIGTERM') await shot(guest, `9-guest-relay-restarting-${tag}`);

  await relay.start();
  const restartedAt = Date.now();
  await explain(pages, async () => {
    await host.page.waitForFunction(() => window.__familiar?.state?.() === 'live', null, { timeout: 30_000 });
    await waitConnected(guest, 30_000);
  });
  t.diagnostic(`both pages back in the session ${Date.now() - restartedAt} ms after the relay restarted`);

  // A little more audio after both are back, then judge the whole window.
  await guest.waitForFunction(() => window.__e2eAudio.level() > 0.005, null, { polling: 100, timeout: 10_000 });
  const mark = await guest.evaluate(() => performance.now());
  await guest.waitForFunction((m) => performance.now() - m > 1500, mark, { polling: 100 });
  const samples = await guest.evaluate(() => window.__e2eAudio.stopSampling());
  const silence = longestSilence(samples);
  const silent = samples.filter((s) => !(s.level > SILENT)).length;
  const span = samples.length ? Math.round(samples.at(-1).t - samples[0].t) : 0;
  const gaps = samples.slice(1).map((s, i) => s.t - samples[i].t);
  t.diagnostic(
    `${samples.length} samples over ${span} ms (longest gap between samples ${Math.round(Math.max(0, ...gaps))} ms); ` +
      `${silent} silent; longest silence ${Math.round(silence)} ms`,
  );

  // The audio stayed on the connections it had: no page made a new one, none left "connected".
  const peersAfter = { guest: await peerRecords(guest), host: await peerRecords(host.page) };
  for (const side of ['guest', 'host']) {
    const before = peersBefore[side];
    const now = peersAfter[side];
    assert.equal(now.length, before.length, `the ${side} page made no new peer connection (${JSON.stringify(now)})`);
    const live = now.at(-1);
    const changes = live.states.slice(before.at(-1).states.length);
    assert.deepEqual(changes, [], `the ${side}'s peer connection stayed connected (it went ${JSON.stringify(changes)})`);
  }
  assert.ok(samples.length >= 20, `sampled throughout (${samples.length} samples)`);
  assert.ok(
    silence <= MAX_SILENCE_MS,
    `audio went silent for ${Math.round(silence)} ms during the restart (at most ${MAX_SILENCE_MS} ms allowed)`,
  );
  const appSilence = longestSilence(samples, 'app');
  assert.ok(appSilence <= MAX_SILENCE_MS, `the page's own level meter dropped for ${Math.round(appSilence)} ms`);

  // Chat works both ways afterwards, and the host's list still shows the guest.
  await hostListEntry(host.page, 'Sam').waitFor();
  await sendChat(guest, `still here after ${signal}`);
  await chatLog(host.page).filter({ hasText: `still here after ${signal}` }).waitFor({ timeout: 10_000 });
  await sendChat(host.page, `welcome back (${tag})`);
  await chatLog(guest).filter({ hasText: `welcome back (${tag})` }).waitFor({ timeout: 10_000 });
  if (signal === 'SIGTERM') await shot(guest, `9-guest-after-restart-${tag}`);
}

test('9a. relay restart (SIGTERM, drained): audio keeps playing, both pages resume, chat works', { timeout: TEST_TIMEOUT }, (t) =>
  restartScenario(t, 'SIGTERM', 'term'),
);

test('9b. relay crash (SIGKILL) and restart: audio keeps playing, both pages resume, chat works', { timeout: TEST_TIMEOUT }, (t) =>
  restartScenario(t, 'SIGKILL', 'kill'),
);
