// Scenarios 1–8 of issue 4 against one relay: real Chromium pages, the built guest app, real
// WebRTC over loopback. Each test starts its own host and guests (one browser process each) and
// closes them when it ends. Every wait is on a condition, never a fixed sleep.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { levels, SILENT, waitForAudio } from '../lib/audio.mjs';
import { LAPTOP, PHONE, people } from '../lib/browser.mjs';
import { serveFixtures } from '../lib/fixtures.mjs';
import {
  chatLog,
  fillJoinForm,
  nowPlayingTitle,
  openAndJoin,
  roomMember,
  sendChat,
  shot,
  typeInto,
  waitConnected,
  waitForState,
} from '../lib/guest.mjs';
import { hostListEntry, startHostPage, startScriptedHost } from '../lib/host.mjs';
import { Relay } from '../lib/relay.mjs';
import { hostLeaves, kickGuest } from '../lib/scenarios.mjs';
import { buildOnce, explain } from '../lib/setup.mjs';

/** Per-test ceiling: generous, since a loaded 2-core machine runs four browsers at times. */
const TEST_TIMEOUT = 180_000;

let relay;
let fixtures;

before(async () => {
  const { bin, static: staticPath } = buildOnce();
  relay = await Relay.start({ bin, static: staticPath, name: 'relay-sessions' });
  fixtures = await serveFixtures();
});

after(async () => {
  await fixtures?.close();
  await relay?.stop('SIGTERM');
});

/** Waits until the app's own meter hook reads sound too (the page's level meter works). */
async function waitForAppLevel(page) {
  await page.waitForFunction((silent) => (window.__familiar?.audioLevel?.() ?? 0) > silent, SILENT, {
    polling: 100,
    timeout: 10_000,
  });
}

test('1. a guest opens the share link, joins by name and hears the host', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [
    ['host1', { viewport: LAPTOP }],
    ['theo', { viewport: PHONE }],
  ]);
  const host = await startHostPage(hostP, relay, { name: 'Sunday Vinyl', username: 'Maya' });
  assert.match(host.link, new RegExp(`/listen/${host.code}$`), 'share link points at the guest page');

  const guest = await guestP.open(host.link);
  await explain({ guest }, async () => {
    // The invitation names the session before anyone joins.
    await guest.getByRole('heading', { name: 'Sunday Vinyl' }).waitFor();
    await fillJoinForm(guest, 'Theo', { screenshot: '1-guest-join-form' });
    await waitConnected(guest);
    await waitForAudio(guest);
    await waitForAppLevel(guest);
  });

  // The title the host's test tone announces, with its artist and album.
  await nowPlayingTitle(guest).filter({ hasText: 'Test tone' }).waitFor();
  await guest.getByText('Familiar Sessions · Signal check').waitFor();
  // The host sees the guest, connected.
  await hostListEntry(host.page, 'Theo').filter({ hasText: /Connected/ }).waitFor();
  await roomMember(guest, 'Maya').waitFor();
  await shot(guest, '1-guest-connected');

  await sendChat(guest, 'Hi from Theo 👋');
  await chatLog(host.page).filter({ hasText: 'Hi from Theo 👋' }).waitFor();
  await sendChat(host.page, 'Welcome, Theo!');
  await chatLog(guest).filter({ hasText: 'Welcome, Theo!' }).waitFor();
  await chatLog(guest).filter({ hasText: 'Hi from Theo 👋' }).waitFor();
  await shot(guest, '1-guest-chat');
  await shot(host.page, '1-host-live');

  const { probe } = await levels(guest);
  assert.ok(probe > SILENT, `guest still hears the tone at the end (level ${probe})`);
});

test('2. three guests listen at once and see each other', { timeout: TEST_TIMEOUT }, async (t) => {
  const names = ['Ada', 'Bo', 'Cy'];
  const [hostP, ...guestPs] = await people(t, [['host2', { viewport: LAPTOP }], ...names.map((n) => [n.toLowerCase()])]);
  const host = await startHostPage(hostP, relay, { name: 'Three of us', username: 'Host Two' });

  const guests = [];
  for (const [i, name] of names.entries()) {
    guests.push(await openAndJoin(guestPs[i], host.link, name));
  }
  const byName = Object.fromEntries(names.map((n, i) => [n, guests[i]]));
  await explain(byName, async () => {
    for (const page of guests) {
      await waitConnected(page);
      await waitForAudio(page);
    }
  });
  // All three still hear it once the last one joined.
  for (const page of guests) await waitForAudio(page, 10_000);

  for (const name of names) await hostListEntry(host.page, name).filter({ hasText: /Connected/ }).waitFor();
  await host.page.getByRole('status').filter({ hasText: 'Live · 3 listening' }).waitFor();
  for (const [i, page] of guests.entries()) {
    await roomMember(page, 'Host Two').waitFor();
    for (const other of names.filter((_, j) => j !== i)) await roomMember(page, other).waitFor();
    await page.getByText('4 here').waitFor();
  }
});

test('3. chat and a reaction from a guest reach the host and the other guests', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, aP, bP] = await people(t, [['host3', { viewport: LAPTOP }], ['dee'], ['eli']]);
  const host = await startHostPage(hostP, relay, { name: 'Chatty', username: 'Host Three' });
  const dee = await openAndJoin(aP, host.link, 'Dee');
  const eli = await openAndJoin(bP, host.link, 'Eli');
  await explain({ dee, eli }, async () => {
    await waitConnected(dee);
    await waitConnected(eli);
  });
  await roomMember(eli, 'Dee').waitFor();
  await roomMember(host.page, 'Dee').waitFor();

  await sendChat(dee, 'This one is great');
  for (const page of [host.page, eli, dee]) {
    await chatLog(page).locator('p').filter({ hasText: 'Dee' }).filter({ hasText: 'This one is great' }).waitFor();
  }

  await dee.getByRole('group', { name: 'Reactions' }).getByRole('button', { name: 'Cheer' }).click();
  // The reaction floats over Dee's familiar in everyone's room.
  for (const page of [host.page, eli, dee]) {
    await roomMember(page, 'Dee').locator('span', { hasText: '🙌' }).first().waitFor({ state: 'attached', timeout: 10_000 });
  }
});

test('4. the host kicks a guest: that guest is told and goes quiet, the other keeps playing', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, aP, bP] = await people(t, [['host4', { viewport: LAPTOP }], ['fay'], ['gus']]);
  const host = await startHostPage(hostP, relay, { name: 'Kick test', username: 'Host Four' });
  const fay = await openAndJoin(aP, host.link, 'Fay');
  const gus = await openAndJoin(bP, host.link, 'Gus');
  await explain({ fay, gus }, async () => {
    for (const page of [fay, gus]) {
      await waitConnected(page);
      await waitForAudio(page);
    }
  });

  await kickGuest(host.page, gus, 'Gus', [fay]);
});

test('5. the host ends the session and closes its tab: guests see the session ended within seconds', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, aP, bP] = await people(t, [['host5', { viewport: LAPTOP }], ['hal'], ['ivy']]);
  const host = await startHostPage(hostP, relay, { name: 'Short one', username: 'Host Five' });
  const hal = await openAndJoin(aP, host.link, 'Hal');
  const ivy = await openAndJoin(bP, host.link, 'Ivy');
  await explain({ hal, ivy }, async () => {
    for (const page of [hal, ivy]) {
      await waitConnected(page);
      await waitForAudio(page);
    }
  });

  const took = await hostLeaves(hostP, host.page, { hal, ivy });
  t.diagnostic(`guests saw the end ${took} ms after the host pressed End session and closed its tab`);
});

test('6. a password session asks for the password, refuses a wrong one, admits the right one', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, gP] = await people(t, [['host6', { viewport: LAPTOP }], ['jo']]);
  const host = await startHostPage(hostP, relay, { name: 'Members only', username: 'Host Six', password: 'open sesame' });
  const jo = await gP.open(host.link);
  await jo.getByLabel('Password', { exact: true }).waitFor();
  await fillJoinForm(jo, 'Jo', { password: 'wrong guess', screenshot: '6-guest-password-form' });
  await explain({ jo }, async () => {
    await jo.getByRole('heading', { name: 'Wrong password' }).waitFor({ timeout: 10_000 });
    await waitForState(jo, 'wrong_password', 5_000);
  });
  await shot(jo, '6-guest-wrong-password');
  await typeInto(jo.getByLabel('Password', { exact: true }), 'open sesame');
  await jo.getByRole('button', { name: 'Try again' }).click();
  await explain({ jo }, async () => {
    await waitConnected(jo);
    await waitForAudio(jo);
  });
  await hostListEntry(host.page, 'Jo').waitFor();
});

test('7. an unknown code says "session not found", with no spinner', { timeout: TEST_TIMEOUT }, async (t) => {
  const [gP] = await people(t, [['kim']]);
  const page = await gP.open(`${relay.origin}/listen/NOPE42`);
  await page.getByRole('heading', { name: 'Session not found' }).waitFor({ timeout: 15_000 });
  await waitForState(page, 'not_found', 5_000);
  await shot(page, '7-guest-not-found');
  // Nothing on the page still pretends to be working on it.
  assert.equal(await page.getByText('Looking up session').count(), 0, 'lookup heading is gone');
  assert.equal(await page.getByRole('list', { name: 'Progress' }).count(), 0, 'no progress steps');
  assert.equal(await page.locator('[aria-busy="true"], [role="progressbar"], .breathe').count(), 0, 'no spinner');
  assert.equal(await page.getByLabel('Your name').count(), 0, 'no join form');
});

test('8. a scripted host that behaves like the Familiar app streams to the guest page', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, gP] = await people(t, [['familiar-app', { viewport: LAPTOP }], ['lou']]);
  const track = { id: 'track-7781', title: 'Harvest Moon', artist: 'Neil Young', album: 'Harvest Moon' };
  const host = await startScriptedHost(hostP, fixtures, relay, { track });
  const lou = await openAndJoin(gP, `${relay.origin}/listen/${host.code}`, 'Lou');
  await explain({ lou }, async () => {
    await waitConnected(lou);
    await waitForAudio(lou);
  });
  await nowPlayingTitle(lou).filter({ hasText: 'Harvest Moon' }).waitFor();
  await lou.getByText('Neil Young · Harvest Moon').waitFor();
  await roomMember(lou, 'DJ Familiar').waitFor();
  await shot(lou, '8-guest-with-familiar-app');
  await host.page.waitForFunction(() => window.familiarHost.connectedPeers().length === 1, null, { timeout: 10_000 });
  const toasts = await host.page.evaluate(() => window.familiarHost.toasts);
  assert.deepEqual(toasts, [], 'the Familiar app would have shown no error toast');
  const sent = await host.page.evaluate(() => window.familiarHost.received.map((m) => m.type));
  assert.ok(sent.includes('webrtc_create_offer'), 'the relay asked the app for an offer');
  assert.ok(!sent.includes('error'), 'no error frame reached the app');
  // The app's `leave` ends the session for the guest at once.
  await host.page.evaluate(() => window.familiarHost.leave());
  await lou.getByRole('heading', { name: 'The session has ended' }).waitFor({ timeout: 10_000 });
});
