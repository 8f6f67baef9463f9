// What Safari needs from the guest page, proved in Chromium (WebKitGTK here has no WebRTC; see
// e2e/README.md). The guest's browser is launched without autoplay, so it plays sound only after
// a tap, as Safari does:
//   - the Join tap primes audio: inside that tap the page plays its <audio> element (a silent
//     clip) and starts its AudioContext, which is what lets iOS play the stream later;
//   - the element is `playsinline` (iOS would otherwise take the stream full screen);
//   - no autoplay is assumed: a join without a tap ends at "Tap to start audio", and the tap
//     starts the sound;
//   - back from the background (iOS pauses the element and suspends the context there), the
//     page plays again by itself.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE_CONTEXT } from '../lib/access.mjs';
import { installProbe, levels, SILENT, waitForAudio } from '../lib/audio.mjs';
import { LAPTOP, PHONE, people } from '../lib/browser.mjs';
import { shot, typeInto, waitConnected } from '../lib/guest.mjs';
import { startHostPage } from '../lib/host.mjs';
import { explain, relayForFile } from '../lib/setup.mjs';

const TEST_TIMEOUT = 180_000;

let relay;

relayForFile('relay-safari', (r) => (relay = r));

/**
 * Before the page's scripts: records each media play() and AudioContext start (made or resumed)
 * with whether it ran inside the task of a real tap or click (as iOS requires: within the
 * gesture, not merely soon after one), and keeps the page's AudioContexts.
 */
function recordAudioStarts() {
  const starts = (window.__e2eStarts = []);
  const contexts = (window.__e2eContexts = []);
  let inTap = false;
  for (const type of ['touchend', 'click']) {
    addEventListener(
      type,
      (e) => {
        if (!e.isTrusted) return;
        inTap = true;
        // The form's submit runs in this same task, after the click; the next task is outside it.
        setTimeout(() => (inTap = false), 0);
      },
      true,
    );
  }
  const gesture = () => inTap;
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    starts.push({ what: 'play', gesture: gesture(), src: this.srcObject ? 'stream' : this.src.slice(0, 15) });
    return play.call(this);
  };
  const Native = window.AudioContext;
  window.AudioContext = class extends Native {
    constructor(...args) {
      super(...args);
      contexts.push(this);
      starts.push({ what: 'context', gesture: gesture() });
    }
  };
  const resume = Native.prototype.resume;
  Native.prototype.resume = function () {
    starts.push({ what: 'resume', gesture: gesture() });
    return resume.call(this);
  };
}

test('S1. the Join tap primes audio on a playsinline element; back from the background it plays again', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [
    ['host-safari', { viewport: LAPTOP }],
    ['guest-tap', { viewport: PHONE, contextOptions: PHONE_CONTEXT, autoplay: false }],
  ]);
  await guestP.context.addInitScript(recordAudioStarts);
  const host = await startHostPage(hostP, relay, { name: 'Tap to listen', username: 'Uma' });
  const guest = await guestP.open(host.link);
  const pages = { host: host.page, guest };
  await typeInto(guest.getByLabel('Your name'), 'Vic');
  await guest.getByRole('button', { name: 'Join', exact: true }).tap();
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });

  const starts = await guest.evaluate(() => window.__e2eStarts);
  t.diagnostic(`audio starts: ${JSON.stringify(starts)}`);
  const primed = starts.find((s) => s.what === 'play' && s.src.startsWith('data:audio/wav'));
  assert.ok(primed?.gesture, `the silent clip was played inside the Join tap (${JSON.stringify(starts)})`);
  assert.ok(
    starts.some((s) => (s.what === 'context' || s.what === 'resume') && s.gesture),
    `the AudioContext was started inside the Join tap (${JSON.stringify(starts)})`,
  );
  assert.ok(starts.some((s) => s.what === 'play' && s.src === 'stream'), 'the stream was played on the same element');
  assert.equal(await guest.locator('audio[playsinline]').count(), 1, 'the <audio> element is playsinline');

  // To the background, as iOS does it: the page is hidden, its element paused, its context
  // suspended. (Headless Chromium keeps a page visible when another tab comes to the front, so
  // the page's visibility is set by hand and its visibilitychange event fired, as a browser would.)
  await guest.evaluate(async () => {
    let hidden = false;
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    window.__e2eSetHidden = (value) => {
      hidden = value;
      document.dispatchEvent(new Event('visibilitychange'));
    };
    window.__e2eSetHidden(true);
    document.querySelector('audio').pause();
    await Promise.all(window.__e2eContexts.map((c) => c.suspend()));
  });
  await installProbe(guest);
  const away = await guest.evaluate(() => ({
    paused: document.querySelector('audio').paused,
    app: window.__familiar.audioLevel(),
    contexts: window.__e2eContexts.map((c) => c.state),
  }));
  t.diagnostic(`in the background: ${JSON.stringify(away)}`);
  assert.ok(away.paused, 'the element is paused while in the background');

  // Back to the front: the page plays again without a tap, and its meter moves again.
  await guest.evaluate(() => window.__e2eSetHidden(false));
  await explain(pages, async () => {
    await guest.waitForFunction(() => !document.hidden && !document.querySelector('audio').paused, null, { timeout: 10_000 });
    await waitForAudio(guest, 10_000);
    await guest.waitForFunction((silent) => window.__familiar.audioLevel() > silent, SILENT, { polling: 100, timeout: 10_000 });
  });
  const back = await levels(guest);
  t.diagnostic(`back in front: probe ${back.probe.toFixed(3)}, app meter ${back.app.toFixed(3)}`);
});

test('S2. no autoplay assumed: a join without a tap asks for one, and the tap starts the sound', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [
    ['host-blocked', { viewport: LAPTOP }],
    ['guest-blocked', { viewport: PHONE, contextOptions: PHONE_CONTEXT, autoplay: false }],
  ]);
  const host = await startHostPage(hostP, relay, { name: 'No autoplay', username: 'Wes' });
  const guest = await guestP.open(host.link);
  const pages = { host: host.page, guest };
  // No user gesture may reach this page before it asks for a tap, and Playwright's own
  // evaluations count as one in Chromium (it runs them as user gestures). So until then the page
  // is read over a bare CDP session, and the join form is submitted from there, its name left
  // empty: as when a page joins again by itself.
  const cdp = await guestP.context.newCDPSession(guest);
  const quietly = async (expression) => (await cdp.send('Runtime.evaluate', { expression, returnByValue: true })).result.value;
  const until = async (expression, what) => {
    const deadline = Date.now() + 30_000;
    while (!(await quietly(expression))) {
      if (Date.now() > deadline) throw new Error(`${what} within 30 s; the page is ${await quietly('window.__familiar?.state?.()')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await until(`!!document.querySelector('form button[type=submit]')`, 'no join form');
  await quietly(`document.querySelector('form').requestSubmit()`);
  await until(`window.__familiar?.state?.() === 'blocked'`, 'the page never asked for a tap');
  assert.equal(await quietly('navigator.userActivation.hasBeenActive'), false, 'no gesture reached the page');
  assert.equal(await quietly(`document.querySelector('audio').paused`), true, 'nothing plays before the tap');
  const tap = guest.getByRole('button', { name: 'Tap to start audio' });
  await tap.waitFor();
  await shot(guest, 'phone-blocked-390x844');
  await tap.tap();
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
});
