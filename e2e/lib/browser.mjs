// The browsers a person may use, driven by playwright-core: Debian's Chromium (over CDP) and
// Debian's firefox-esr (over WebDriver BiDi, through lib/firefox-bidi.mjs). One browser process
// per person (a fresh profile directory each, as two people on two devices would be), with the
// flags or prefs that keep it offline, let WebRTC connect over loopback with real host
// candidates, and let audio play without a tap. Console errors and uncaught exceptions of every
// page are kept for the test's log.

import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, firefox } from 'playwright-core';
import { ARTIFACTS, E2E_DIR } from './relay.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Starts $FIREFOX_PATH (default /usr/bin/firefox-esr) behind a BiDi shim; see that file. */
const FIREFOX_SHIM = join(E2E_DIR, 'lib', 'firefox-bidi.mjs');

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-ui-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/**
 * Firefox's counterparts of the Chromium flags (see e2e/README.md for each one's reason).
 * Playwright adds its own test defaults (no updates, telemetry, safe browsing, first-run pages).
 */
export const FIREFOX_PREFS = {
  // WebRTC: real host candidates (no mDNS .local names, which nothing here could resolve),
  // loopback addresses allowed, no permission prompt for the host's microphone source.
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.loopback': true,
  'media.navigator.permission.disabled': true,
  'media.navigator.streams.fake': true,
  // No sound card here: play into cubeb's mock backend so audio elements and AudioContexts run.
  'media.cubeb.force_mock_context': true,
  // Audio may start without a tap (the tests prove the tap path separately in Chromium).
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Nothing resolves outside this machine: every name is localhost, no DNS over HTTPS, no
  // prefetching, no captive-portal or connectivity probes, no proxy.
  'network.dns.native-is-localhost': true,
  'network.trr.mode': 5,
  'network.dns.disablePrefetch': true,
  'network.predictor.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.proxy.type': 0,
};

/** A phone-sized window for guests (most open the link on a phone); a laptop one for hosts. */
export const PHONE = { width: 390, height: 844 };
export const LAPTOP = { width: 1280, height: 800 };

const CONSOLE_LOG = join(ARTIFACTS, 'browser-console.log');

/** Appends to the console log; a log that cannot be written (artifacts/ removed) is skipped. */
function note(line) {
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    appendFileSync(CONSOLE_LOG, line);
  } catch {
    // Logging must never fail a test.
  }
}

/**
 * Runs in every page before its own scripts: keeps a record of each RTCPeerConnection the page
 * makes and its connection states (`window.__e2ePeers`), so a test can tell whether audio kept
 * flowing on the same connection or was renegotiated. Behaviour is unchanged.
 */
function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const records = (window.__e2ePeers = []);
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      const record = { created: performance.now(), states: [] };
      records.push(record);
      this.addEventListener('connectionstatechange', () => record.states.push([performance.now(), this.connectionState]));
    }
  };
}

/**
 * A person's browser: `open(url)` gives a page; `close()` ends the process and removes the
 * profile. `errors` collects uncaught page exceptions.
 */
export class Person {
  constructor(name, context, profile, kind) {
    this.name = name;
    this.context = context;
    this.profile = profile;
    /** 'chromium' or 'firefox'. */
    this.kind = kind;
    this.errors = [];
  }

  /**
   * `browser` is 'chromium' (the default) or 'firefox'; `contextOptions` go to Playwright as they
   * are (e.g. `isMobile`, `hasTouch` for a phone; Chromium only); `autoplay: false` makes
   * Chromium refuse to play sound before a tap (Chromium only).
   */
  static async launch(name, { viewport = PHONE, browser = 'chromium', contextOptions = {}, autoplay = true } = {}) {
    const profile = mkdtempSync(join(tmpdir(), `familiar-e2e-${name}-`));
    // The browser's own timeout for the launch; a loaded 2-core machine can be slow to start it.
    const common = { headless: true, viewport, timeout: 60_000, ...contextOptions };
    let context;
    try {
      if (browser === 'firefox') {
        context = await firefox.launchPersistentContext(profile, {
          ...common,
          channel: 'moz-firefox',
          executablePath: FIREFOX_SHIM,
          firefoxUserPrefs: FIREFOX_PREFS,
        });
      } else if (browser === 'chromium') {
        // Without autoplay, Chromium plays media only after a tap, as Safari does.
        const args = autoplay
          ? CHROMIUM_FLAGS
          : [...CHROMIUM_FLAGS.filter((f) => !f.startsWith('--autoplay-policy=')), '--autoplay-policy=document-user-activation-required'];
        context = await chromium.launchPersistentContext(profile, { ...common, executablePath: CHROMIUM, args });
      } else {
        throw new Error(`unknown browser ${browser}`);
      }
    } catch (e) {
      // A browser that never started leaves no profile behind.
      rmSync(profile, { recursive: true, force: true });
      throw e;
    }
    context.setDefaultTimeout(20_000);
    await context.addInitScript(recordPeerConnections);
    const person = new Person(name, context, profile, browser);
    context.on('page', (page) => person.watch(page));
    for (const page of context.pages()) person.watch(page);
    return person;
  }

  watch(page) {
    const tag = `[${this.name}]`;
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') {
        note(`${new Date().toISOString()} ${tag} ${msg.type()}: ${msg.text()}\n`);
      }
    });
    page.on('response', (res) => {
      if (res.status() >= 400) {
        note(`${new Date().toISOString()} ${tag} HTTP ${res.status()} ${res.url()}\n`);
      }
    });
    page.on('pageerror', (err) => {
      this.errors.push(String(err));
      note(`${new Date().toISOString()} ${tag} pageerror: ${err.stack ?? err}\n`);
    });
  }

  /** The persistent context opens with one blank tab; the first `open` reuses it. */
  async open(url) {
    const blank = this.context.pages().find((p) => p.url() === 'about:blank' && !p.__used);
    const page = blank ?? (await this.context.newPage());
    page.__used = true;
    page.__person = this;
    await page.goto(url);
    return page;
  }

  async close() {
    try {
      await this.context.close();
    } finally {
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
}

/** Launches several people at once (their start-up overlaps) and closes them all on `t.after`. */
export async function people(t, specs) {
  const results = await Promise.allSettled(specs.map(([name, opts]) => Person.launch(name, opts)));
  const launched = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const closeAll = () => Promise.all(launched.map((p) => p.close().catch(() => {})));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await closeAll();
    throw failed.reason;
  }
  t.after(closeAll);
  return launched;
}
