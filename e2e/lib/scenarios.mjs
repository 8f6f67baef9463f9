// The steps the scenarios share, whatever browser each person uses: a guest kicked (told, then
// silent), the host leaving (every guest sees the end), and a relay restart that a listener
// never hears (the audio stays on its peer connection, both pages resume, chat works after).
// sessions.test.mjs and restart.test.mjs run them in Chromium; browsers.test.mjs runs them with
// Chromium and Firefox mixed.

import assert from 'node:assert/strict';
import { SILENT, installProbe, levels, longestSilence, waitForAudio, waitForSilence } from './audio.mjs';
import { describePages, explain } from './setup.mjs';
import { chatLog, roomMember, sendChat, shot, waitConnected, waitForState } from './guest.mjs';
import { hostListEntry, kickButton } from './host.mjs';

/** The longest the guest may hear silence while the relay is away ("a moment"; generous for a loaded machine: the peer-connection check is the strict one). */
export const MAX_SILENCE_MS = 1_500;

/** The peer connections a page made, with their state changes (see lib/browser.mjs). */
function peerRecords(page) {
  return page.evaluate(() => (window.__e2ePeers ?? []).map((r) => ({ states: r.states.map(([, state]) => state) })));
}

function pageState(page) {
  return page.evaluate(() => window.__familiar?.state?.() ?? null);
}

/**
 * The host kicks `name` (whose page is `kicked`): that guest is told and goes quiet; the host's
 * list and every page in `others` drop them, and those others keep hearing the host.
 */
export async function kickGuest(hostPage, kicked, name, others = []) {
  await kickButton(hostPage, name).click();
  await explain({ [name]: kicked }, async () => {
    await kicked.getByRole('heading', { name: 'You were removed from the session' }).waitFor({ timeout: 10_000 });
    await waitForState(kicked, 'kicked', 5_000);
    await waitForSilence(kicked);
  });
  const heard = await levels(kicked);
  assert.ok(!(heard.probe > SILENT), `kicked guest hears nothing (level ${heard.probe})`);
  assert.ok(!(heard.app > SILENT), `kicked guest's meter is still (app level ${heard.app})`);

  await kickButton(hostPage, name).waitFor({ state: 'detached', timeout: 10_000 });
  for (const page of others) {
    await roomMember(page, name).waitFor({ state: 'detached', timeout: 10_000 });
    await waitForState(page, 'connected', 5_000);
    await waitForAudio(page, 10_000);
  }
}

/**
 * The host leaves: closes its tab (its unload handlers run), or with `endButton` presses "End
 * session". Within 10 s every guest sees "The session has ended", then silence. On a miss the
 * failure says what the guests showed and how long the end took in fact. Returns the time the
 * end took, in ms.
 */
export async function hostLeaves(hostPerson, hostPage, guests) {
  hostPerson.context.on('dialog', (d) => d.accept());
  const closedAt = Date.now();
  // As a person done hosting: "End session", then the tab closes (its unload handlers run). A
  // tab closed without it may be a reload, so the session waits for the host's grace period
  // (tests/host.test.mjs covers that).
  await hostPage.getByRole('button', { name: 'End session' }).click();
  await hostPage.close({ runBeforeUnload: true });
  const ended = (page, timeout) => page.getByRole('heading', { name: 'The session has ended' }).waitFor({ timeout });
  const pages = Object.values(guests);
  try {
    for (const page of pages) await ended(page, Math.max(1, closedAt + 10_000 - Date.now()));
  } catch {
    // Say what the guests showed instead, and how long the end took in fact (e.g. only after the
    // relay's grace period for a dropped host), so the failure tells what to fix.
    const showing = await describePages(guests);
    let after = 'not within 45 s either';
    try {
      for (const page of pages) await ended(page, Math.max(1, closedAt + 45_000 - Date.now()));
      after = `only after ${Date.now() - closedAt} ms`;
    } catch {}
    assert.fail(`guests did not see "The session has ended" within 10 s of the host closing its tab (${after}).\n  10 s after the close the pages showed:\n    ${showing}`);
  }
  const took = Date.now() - closedAt;
  for (const page of pages) await waitForSilence(page);
  return took;
}

/**
 * The relay (started with a fixed SESSION_SECRET) is stopped with `signal` and started again on
 * the same port while `guest` (named `guestName` in the host's list) listens to `host`. The
 * guest's level is sampled every 100 ms throughout: never silent for more than MAX_SILENCE_MS,
 * no page makes a new peer connection or sees its connection leave "connected", both pages get
 * back into the session by themselves, and chat works both ways afterwards.
 */
export async function relayRestartKeepsAudio(t, relay, { host, guest, guestName, signal, tag, screenshots = false }) {
  const pages = { host, guest };
  await installProbe(guest);
  await guest.evaluate(() => window.__e2eAudio.startSampling());
  const peersBefore = { guest: await peerRecords(guest), host: await peerRecords(host) };
  const t0 = Date.now();

  const exit = await relay.stop(signal);
  t.diagnostic(`relay stopped by ${signal} after ${Date.now() - t0} ms: ${JSON.stringify(exit)}`);
  // Both pages notice the relay is gone (and say so) before it comes back.
  await explain(pages, async () => {
    await waitForState(guest, ['restarting', 'reconnecting', 'unreachable'], 15_000);
    await host.waitForFunction(() => window.__familiar?.state?.() !== 'live', null, { timeout: 15_000 });
  });
  const downState = { guest: await pageState(guest), host: await pageState(host) };
  t.diagnostic(`while down: guest=${downState.guest} host=${downState.host}`);
  if (screenshots) await shot(guest, `9-guest-relay-restarting-${tag}`);

  await relay.start();
  const restartedAt = Date.now();
  await explain(pages, async () => {
    await host.waitForFunction(() => window.__familiar?.state?.() === 'live', null, { timeout: 30_000 });
    await waitConnected(guest, 30_000);
  });
  t.diagnostic(`both pages back in the session ${Date.now() - restartedAt} ms after the relay restarted`);

  // A little more audio after both are back, then judge the whole window (2.5 s: a restart is
  // now over in a few hundred ms, and the window must still hold 20 samples at 100 ms).
  await guest.waitForFunction((silent) => window.__e2eAudio.level() > silent, SILENT, { polling: 100, timeout: 10_000 });
  const mark = await guest.evaluate(() => performance.now());
  await guest.waitForFunction((m) => performance.now() - m > 2500, mark, { polling: 100 });
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
  const peersAfter = { guest: await peerRecords(guest), host: await peerRecords(host) };
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
  await hostListEntry(host, guestName).waitFor();
  await sendChat(guest, `still here after ${signal}`);
  await chatLog(host).filter({ hasText: `still here after ${signal}` }).waitFor({ timeout: 10_000 });
  await sendChat(host, `welcome back (${tag})`);
  await chatLog(guest).filter({ hasText: `welcome back (${tag})` }).waitFor({ timeout: 10_000 });
  if (screenshots) await shot(guest, `9-guest-after-restart-${tag}`);
}
