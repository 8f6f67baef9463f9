// What every test file needs before its first test: the relay binary and the built guest app,
// resolved once per file (the build steps are no-ops when nothing changed); and `explain`, which
// adds what each page was showing to a failed wait.

import { join } from 'node:path';
import { after, before } from 'node:test';
import { ARTIFACTS, Relay, relayBinary, staticDir } from './relay.mjs';

let resolved = null;

export function buildOnce() {
  resolved ??= { bin: relayBinary(), static: staticDir() };
  return resolved;
}

/** One line per page: its state word and the status texts it shows. */
export async function describePages(pages) {
  const lines = await Promise.all(
    Object.entries(pages).map(async ([name, page]) => {
      try {
        const { state, statuses, level } = await page.evaluate(() => ({
          state: window.__familiar?.state?.() ?? 'no hook',
          statuses: [...document.querySelectorAll('[role=status], [role=alert], h1, section[aria-label]')]
            .map((e) => e.textContent.trim().slice(0, 200))
            .filter(Boolean),
          level: window.__e2eAudio?.level?.() ?? null,
        }));
        const heard = level === null ? '' : ` hears level ${level.toFixed(3)}`;
        return `${name}: state=${state}${heard} shows ${JSON.stringify(statuses)}`;
      } catch {
        return `${name}: closed`;
      }
    }),
  );
  return lines.join('\n    ');
}

/** Runs `fn`; when it throws, the error also says what the pages were showing. */
export async function explain(pages, fn) {
  try {
    return await fn();
  } catch (e) {
    // A picture of every page as it was when the wait failed, for whoever reads the failure.
    await Promise.all(
      Object.entries(pages).map(([name, page]) =>
        page.screenshot({ path: join(ARTIFACTS, `failed-${name}.png`), fullPage: true }).catch(() => {}),
      ),
    );
    const err = new Error(`${e.message.split('\n')[0]}\n  pages:\n    ${await describePages(pages)}`, { cause: e });
    throw err;
  }
}

/**
 * One relay for a whole test file: started before its first test (after building what is
 * missing), stopped with SIGTERM after its last; `use` receives it. `restartable` gives it a
 * fixed SESSION_SECRET and a quick restart hint, so tests may stop and start it again and every
 * page resumes; `env` adds to (and overrides) that.
 */
export function relayForFile(name, use, { restartable = false, env = {} } = {}) {
  let relay;
  before(async () => {
    const { bin, static: staticPath } = buildOnce();
    const restart = restartable
      ? { SESSION_SECRET: `e2e-${name}-secret-0123456789abcdef`, RESTART_RETRY_AFTER_MS: '300', SHUTDOWN_DRAIN_MS: '2000' }
      : {};
    relay = await Relay.start({ bin, static: staticPath, name, env: { ...restart, ...env } });
    use(relay);
  });
  after(async () => {
    await relay?.stop('SIGTERM');
  });
}
