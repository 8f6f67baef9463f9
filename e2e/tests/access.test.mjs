// The guest page on a phone, and both pages without a mouse (issue 14). Chromium with phone
// contexts (touch, the mobile viewport) walks a guest through every state a listener can meet:
// at 360×740 and 390×844 each state must not scroll sideways, every tap target must be at
// least 44 px, axe-core must find nothing serious or critical, and a screenshot of each goes to
// artifacts/phone-<state>-<size>.png. The chat field must stay above an on-screen keyboard.
// Then a host and a guest at laptop size go through a whole session by keyboard alone, with the
// same audit of the host page; what the live regions announce is checked along the way.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  announcements,
  checkState,
  focused,
  PHONE_CONTEXT,
  PHONES,
  recordAnnouncements,
  tabTo,
} from '../lib/access.mjs';
import { waitForAudio, waitForSilence } from '../lib/audio.mjs';
import { LAPTOP, people } from '../lib/browser.mjs';
import { chatLog, fillJoinForm, sendChat, typeInto, waitConnected, waitForState } from '../lib/guest.mjs';
import { hostListEntry, startHostPage } from '../lib/host.mjs';
import { ARTIFACTS } from '../lib/relay.mjs';
import { explain, relayForFile } from '../lib/setup.mjs';

const TEST_TIMEOUT = 240_000;

let relay;

relayForFile('relay-access', (r) => (relay = r), { restartable: true });

/** Guest side: answering the host's offer waits while `window.__e2eHoldAudio` is set. */
function holdableAudio() {
  const native = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = async function (...args) {
    while (window.__e2eHoldAudio) await new Promise((r) => setTimeout(r, 50));
    return native.apply(this, args);
  };
}

/** Host side: every WebSocket the page opens, so the test can drop one. */
function keepSockets() {
  const Native = window.WebSocket;
  const sockets = (window.__e2eSockets = []);
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  };
}

test('P1. every guest state at phone sizes: no sideways scroll, 44 px targets, axe clean, keyboard-safe chat', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [
    ['host-phone', { viewport: LAPTOP }],
    ['guest-phone', { viewport: PHONES[1], contextOptions: PHONE_CONTEXT }],
  ]);
  await guestP.context.addInitScript(recordAnnouncements);
  await guestP.context.addInitScript(holdableAudio);
  await hostP.context.addInitScript(keepSockets);
  const problems = [];
  const check = async (page, state) => problems.push(...(await checkState(page, state, PHONES)));

  // Not found.
  const lost = await guestP.open(`${relay.origin}/listen/NOPE42`);
  await lost.getByRole('heading', { name: 'Session not found' }).waitFor({ timeout: 15_000 });
  await check(lost, 'not-found');

  const host = await startHostPage(hostP, relay, { name: 'Pocket session', username: 'Quinn', password: 'let me in' });
  const guest = lost;
  await guest.goto(host.link);
  const pages = { host: host.page, guest };
  await guest.getByLabel('Password', { exact: true }).waitFor();
  await check(guest, 'join-form');

  await fillJoinForm(guest, 'Remy', { password: 'not it' });
  await explain(pages, () => guest.getByRole('heading', { name: 'Wrong password' }).waitFor({ timeout: 10_000 }));
  await check(guest, 'wrong-password');

  // Connecting: the audio's answer is held back until the picture is taken.
  await guest.evaluate(() => (window.__e2eHoldAudio = true));
  await typeInto(guest.getByLabel('Password', { exact: true }), 'let me in');
  await guest.getByRole('button', { name: 'Try again' }).click();
  await explain(pages, () => waitForState(guest, 'negotiating', 15_000));
  await check(guest, 'connecting');
  await guest.evaluate(() => (window.__e2eHoldAudio = false));

  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  await sendChat(host.page, 'Hello pocket!');
  await chatLog(guest).filter({ hasText: 'Hello pocket!' }).waitFor();
  await check(guest, 'listening');

  // Typing chat with the on-screen keyboard up: the field and Send stay in sight.
  for (const size of PHONES) {
    await guest.setViewportSize(size);
    const field = guest.getByRole('textbox', { name: 'Message' });
    await field.scrollIntoViewIfNeeded();
    await field.tap();
    // A phone keyboard takes about 45% of a portrait screen: only the viewport above it is left.
    const keyboardUp = { width: size.width, height: Math.round(size.height * 0.55) };
    await guest.setViewportSize(keyboardUp);
    await guest.waitForFunction(() => {
      const vv = window.visualViewport;
      const inView = (el) => {
        const r = el.getBoundingClientRect();
        return r.top >= vv.offsetTop - 1 && r.bottom <= vv.offsetTop + vv.height + 1;
      };
      const field = document.activeElement;
      const send = field?.form?.querySelector('button[type=submit]');
      return field?.getAttribute('aria-label') === 'Message' && inView(field) && send && inView(send);
    }, null, { timeout: 5_000 }).catch(async () => {
      const where = await guest.evaluate(() => ({
        field: document.activeElement?.getBoundingClientRect().toJSON(),
        viewport: { top: visualViewport.offsetTop, height: visualViewport.height },
      }));
      problems.push(`chat field hidden behind the keyboard at ${size.width}x${size.height}: ${JSON.stringify(where)}`);
    });
    await guest.keyboard.type(`typing at ${size.width}`);
    await guest.screenshot({ path: join(ARTIFACTS, `phone-chat-keyboard-${size.width}x${size.height}.png`), animations: 'disabled' });
    await guest.keyboard.press('Enter');
    await chatLog(host.page).filter({ hasText: `typing at ${size.width}` }).waitFor();
    await guest.evaluate(() => document.activeElement?.blur());
  }

  // Host away: its socket drops and cannot come back until let through again.
  let hostOffline = true;
  await hostP.context.routeWebSocket(/\/api\/v1\/sessions\/ws/, (ws) => (hostOffline ? ws.close() : ws.connectToServer()));
  await host.page.evaluate(() => window.__e2eSockets.forEach((s) => s.close()));
  await explain(pages, () => guest.getByText("The host's connection dropped").waitFor({ timeout: 15_000 }));
  await check(guest, 'host-away');
  hostOffline = false;
  await explain(pages, async () => {
    await host.page.waitForFunction(() => window.__familiar?.state?.() === 'live', null, { timeout: 30_000 });
    await guest.getByText("The host's connection dropped").waitFor({ state: 'detached', timeout: 15_000 });
  });

  // The relay restarting (drained, then back on the same port).
  await relay.stop('SIGTERM');
  await explain(pages, () => waitForState(guest, 'restarting', 15_000));
  await check(guest, 'relay-restarting');
  await relay.start();
  await explain(pages, async () => {
    await host.page.waitForFunction(() => window.__familiar?.state?.() === 'live', null, { timeout: 30_000 });
    await waitConnected(guest, 30_000);
  });

  // The host ends it.
  await host.page.getByRole('button', { name: 'End session' }).click();
  await explain(pages, () => guest.getByRole('heading', { name: 'The session has ended' }).waitFor({ timeout: 10_000 }));
  await check(guest, 'ended');

  const said = await announcements(guest);
  t.diagnostic(`announced: ${JSON.stringify(said)}`);
  for (const words of ['Wrong password', 'Connected', 'Hello pocket!', 'The relay is restarting', 'The session has ended']) {
    if (!said.some((s) => s.includes(words))) problems.push(`no live region announced "${words}"`);
  }
  assert.deepEqual(problems, []);
});

test('K1. keyboard only: a host starts, a guest joins, listens, chats and leaves; both pages axe clean', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [
    ['host-keys', { viewport: LAPTOP }],
    ['guest-keys', { viewport: LAPTOP }],
  ]);
  for (const p of [hostP, guestP]) await p.context.addInitScript(recordAnnouncements);
  const problems = [];
  const check = async (page, state) => problems.push(...(await checkState(page, state, [LAPTOP], { tapTargets: false, prefix: 'laptop' })));

  // The host sets up and starts by keyboard.
  const hostPage = await hostP.open(`${relay.origin}/host`);
  await hostPage.getByLabel('Session name').waitFor();
  await check(hostPage, 'host-setup');
  await tabTo(hostPage, 'Session name');
  await hostPage.keyboard.type('Keys only');
  await tabTo(hostPage, 'Your name');
  await hostPage.keyboard.type('Sol');
  await tabTo(hostPage, 'Start session');
  await hostPage.keyboard.press('Enter');
  await hostPage.getByRole('status').filter({ hasText: /^Live/ }).waitFor({ timeout: 20_000 });
  const link = await hostPage.getByRole('region', { name: 'Invite friends' }).getByRole('link').getAttribute('href');

  // The guest: name, Join, listen, chat, Leave, all by keyboard.
  const guest = await guestP.open(link);
  const pages = { host: hostPage, guest };
  await guest.getByLabel('Your name').waitFor();
  await tabTo(guest, 'Your name');
  await guest.keyboard.type('Tova');
  await tabTo(guest, 'Join');
  await guest.keyboard.press('Enter');
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  await check(guest, 'guest-listening');
  await tabTo(guest, 'Message');
  await guest.keyboard.type('typed, not clicked');
  await guest.keyboard.press('Enter');
  await chatLog(hostPage).filter({ hasText: 'typed, not clicked' }).waitFor();

  // The host answers by keyboard, from wherever focus is.
  await hostListEntry(hostPage, 'Tova').waitFor();
  await check(hostPage, 'host-live');
  await tabTo(hostPage, 'Message');
  await hostPage.keyboard.type('welcome, Tova');
  await hostPage.keyboard.press('Enter');
  await chatLog(guest).filter({ hasText: 'welcome, Tova' }).waitFor();

  // Space on Leave (back up the page: Leave is in the header).
  await tabTo(guest, 'Leave', { back: true, limit: 60 });
  await guest.keyboard.press(' ');
  await guest.getByRole('heading', { name: 'You left the session' }).waitFor({ timeout: 10_000 });
  await waitForSilence(guest);
  await check(guest, 'guest-left');
  const now = await focused(guest);
  t.diagnostic(`after Leave, focus is on ${JSON.stringify(now)}`);
  await hostListEntry(hostPage, 'Tova').waitFor({ state: 'detached', timeout: 10_000 });

  const hostSaid = await announcements(hostPage);
  const guestSaid = await announcements(guest);
  t.diagnostic(`host announced: ${JSON.stringify(hostSaid)}; guest announced: ${JSON.stringify(guestSaid)}`);
  for (const [who, said, words] of [
    ['guest', guestSaid, 'Connected'],
    ['guest', guestSaid, 'welcome, Tova'],
    ['guest', guestSaid, 'You left the session'],
    ['host', hostSaid, 'typed, not clicked'],
  ]) {
    if (!said.some((s) => s.includes(words))) problems.push(`the ${who}'s live regions never announced "${words}"`);
  }
  assert.deepEqual(problems, []);
});
