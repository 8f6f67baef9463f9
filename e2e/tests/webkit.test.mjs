// The guest page in WebKitGTK, the engine closest to Safari that installs here (WebKitWebDriver,
// Xvfb). Its WebRTC is not built in (e2e/README.md), so what it can prove is what a guest in a
// browser without WebRTC meets: the page renders, and says plainly that this browser cannot play
// the session instead of "Connecting to the host…" for ever; an unknown code still says so.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { LAPTOP, people } from '../lib/browser.mjs';
import { startHostPage } from '../lib/host.mjs';
import { relayForFile } from '../lib/setup.mjs';
import { WebKit } from '../lib/webkit.mjs';

const TEST_TIMEOUT = 120_000;

let relay;

relayForFile('relay-webkit', (r) => (relay = r));

const heading = (text) => `return [...document.querySelectorAll('h1')].some((h) => h.textContent.trim() === ${JSON.stringify(text)})`;

test('W1. WebKitGTK: the guest page tells a browser without WebRTC so, and finds no session for a bad code', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP] = await people(t, [['host-webkit', { viewport: LAPTOP }]]);
  const host = await startHostPage(hostP, relay, { name: 'For Safari', username: 'Yara' });
  const webkit = await WebKit.launch();
  t.after(() => webkit.close());

  await webkit.go(host.link);
  const engine = await webkit.run('return { ua: navigator.userAgent, webrtc: typeof RTCPeerConnection }');
  t.diagnostic(`WebKitGTK: ${engine.ua}; RTCPeerConnection is ${engine.webrtc}`);
  if (engine.webrtc === 'undefined') {
    await webkit.until(heading("This browser can't play live audio"), 'the page never said it cannot play');
    const page = await webkit.run(`return {
      state: window.__familiar && window.__familiar.state(),
      joinForm: !!document.getElementById('guest-name'),
      announced: [...document.querySelectorAll('[role=alert]')].map((e) => e.textContent.trim()),
      back: [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Back to start'),
    }`);
    assert.equal(page.state, 'no_webrtc');
    assert.equal(page.joinForm, false, 'no join form is offered');
    assert.ok(page.announced.some((a) => a.includes("This browser can't play live audio")), 'the notice is an alert');
    assert.ok(page.back, 'the way back is offered');
    await webkit.screenshot('webkit-no-webrtc');
  } else {
    // A WebKitGTK with WebRTC: the invitation is offered as in any browser (and this suite
    // should then let it listen too).
    await webkit.until(`return !!document.getElementById('guest-name')`, 'the join form never appeared');
    await webkit.screenshot('webkit-join-form');
  }

  await webkit.go(`${relay.origin}/listen/NOPE42`);
  await webkit.until(heading('Session not found'), 'the unknown code was never reported');
  await webkit.screenshot('webkit-not-found');
});
