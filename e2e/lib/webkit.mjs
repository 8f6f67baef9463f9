// Debian's WebKitGTK (MiniBrowser) driven by WebKitWebDriver over W3C WebDriver classic, on a
// private Xvfb display: the engine closest to Safari that installs here. A small client of the
// few WebDriver commands the tests use (plain HTTP to the driver on loopback). WebKitGTK here has
// no WebRTC (see e2e/README.md), so it proves what a guest sees before audio, not the audio.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, freePort } from './relay.mjs';

export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A display number nobody else uses: Xvfb refuses one that is taken, so try a few. */
async function startXvfb() {
  for (let display = 90 + Math.floor(Math.random() * 300); ; display++) {
    const proc = spawn('Xvfb', [`:${display}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const exited = await Promise.race([new Promise((r) => proc.once('exit', () => r(true))), sleep(700).then(() => false)]);
    if (!exited) return { proc, display: `:${display}` };
    if (display > 1000) throw new Error('no free X display for Xvfb');
  }
}

export class WebKit {
  constructor(xvfb, driver, base, session) {
    this.xvfb = xvfb;
    this.driver = driver;
    this.base = base;
    this.session = session;
  }

  /** Starts Xvfb, the driver and one browser session (a phone-sized window). */
  static async launch({ width = 390, height = 844 } = {}) {
    const xvfb = await startXvfb();
    const port = await freePort();
    const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env: { ...process.env, DISPLAY: xvfb.display }, stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          if ((await fetch(`${base}/status`)).ok) break;
        } catch {
          // Not listening yet.
        }
        if (Date.now() > deadline) throw new Error(`${WEBKIT_DRIVER} did not answer within 20 s`);
        await sleep(100);
      }
      const webkit = new WebKit(xvfb, driver, base, null);
      const created = await webkit.call('POST', '/session', {
        capabilities: {
          alwaysMatch: {
            // WebRTC and media stream asked for, in case a build has them; autoplay allowed.
            'webkitgtk:browserOptions': {
              args: ['--automation', '--enable-webrtc=true', '--enable-media-stream=true', '--autoplay-policy=allow'],
            },
          },
        },
      });
      webkit.session = created.sessionId;
      await webkit.call('POST', `/session/${webkit.session}/window/rect`, { width, height });
      return webkit;
    } catch (e) {
      driver.kill();
      xvfb.proc.kill();
      throw e;
    }
  }

  async call(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`);
    return value;
  }

  go(url) {
    return this.call('POST', `/session/${this.session}/url`, { url });
  }

  /** Runs `script` (a function body; `return` its result) in the page. */
  run(script, args = []) {
    return this.call('POST', `/session/${this.session}/execute/sync`, { script, args });
  }

  /** Polls `script` until it returns something truthy; returns that. */
  async until(script, what, timeout = 20_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await this.run(script).catch(() => null);
      if (value) return value;
      if (Date.now() > deadline) {
        const shows = await this.run('return document.body && document.body.innerText.slice(0, 300)').catch(() => '?');
        throw new Error(`WebKit: ${what} within ${timeout} ms; the page shows ${JSON.stringify(shows)}`);
      }
      await sleep(100);
    }
  }

  async screenshot(name) {
    const png = await this.call('GET', `/session/${this.session}/screenshot`);
    writeFileSync(join(ARTIFACTS, `${name}.png`), Buffer.from(png, 'base64'));
  }

  async close() {
    try {
      if (this.session) await this.call('DELETE', `/session/${this.session}`);
    } catch {
      // The driver goes down next anyway.
    } finally {
      this.driver.kill();
      this.xvfb.proc.kill();
    }
  }
}
