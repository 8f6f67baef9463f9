// The relay under test: finds or builds the release binary, checks that the guest app is built,
// and runs the binary on a free loopback port with public STUN and metrics turned off. A relay
// can be stopped (SIGTERM drains, SIGKILL does not) and started again on the same port, which is
// what the restart scenario needs. Each run's output goes to artifacts/relay-<name>.log.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(E2E_DIR, '..');
export const ARTIFACTS = join(E2E_DIR, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** The relay binary: $RELAY_BIN, or `cargo build --release` (a no-op when it is fresh). */
export function relayBinary() {
  if (process.env.RELAY_BIN) {
    const bin = resolve(process.env.RELAY_BIN);
    if (!existsSync(bin)) throw new Error(`RELAY_BIN=${bin} does not exist`);
    return bin;
  }
  const built = spawnSync('cargo', ['build', '--release', '--bin', 'familiar-sessions'], {
    cwd: REPO_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (built.status !== 0) throw new Error(`cargo build --release failed (exit ${built.status})`);
  return join(REPO_DIR, 'target', 'release', 'familiar-sessions');
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === '__tests__') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/**
 * The built guest app: $STATIC_DIR, or the repository's static/. The caller builds it (the
 * README's test command runs `npm run build` in guest/ first); only a missing build is made here
 * (`npm ci` when guest/node_modules is absent, then `npm run build`), unless E2E_BUILD_GUEST=0.
 * A build older than the guest sources is used as it is, with a warning: rebuilding static/
 * under someone else's feet in a shared tree breaks pages they have open.
 */
export function staticDir() {
  if (process.env.STATIC_DIR) {
    const dir = resolve(process.env.STATIC_DIR);
    if (!existsSync(join(dir, 'index.html'))) throw new Error(`no index.html in STATIC_DIR=${dir}`);
    return dir;
  }
  const dir = join(REPO_DIR, 'static');
  const guest = join(REPO_DIR, 'guest');
  const index = join(dir, 'index.html');
  if (existsSync(index)) {
    const built = statSync(index).mtimeMs;
    const sources = Math.max(
      ...['src', 'public', 'index.html', 'package.json', 'vite.config.ts', 'tailwind.config.js', 'postcss.config.js'].map(
        (p) => newestMtime(join(guest, p)),
      ),
    );
    if (sources > built) {
      process.stderr.write(`warning: ${index} is older than guest/ sources; run npm run build in guest/\n`);
    }
    return dir;
  }
  if (process.env.E2E_BUILD_GUEST === '0') throw new Error(`${index} is missing; run npm run build in guest/`);
  const run = (args) => {
    const r = spawnSync('npm', args, { cwd: guest, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`npm ${args.join(' ')} in guest/ failed (exit ${r.status})`);
  };
  if (!existsSync(join(guest, 'node_modules'))) run(['ci', '--no-audit', '--no-fund']);
  run(['run', 'build']);
  return dir;
}

/** A port nothing listens on right now (the relay binds it a moment later). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One relay process at a time on a fixed port; `start` after `stop` reuses the port.
 * `env` adds to (and overrides) the test defaults.
 */
export class Relay {
  constructor({ bin, static: staticPath, port, name = 'relay', env = {} }) {
    this.bin = bin;
    this.staticPath = staticPath;
    this.port = port;
    this.name = name;
    this.env = env;
    this.proc = null;
    this.runs = 0;
  }

  get origin() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/api/v1/sessions/ws`;
  }

  static async start(opts) {
    const relay = new Relay({ ...opts, port: opts.port ?? (await freePort()) });
    await relay.start();
    return relay;
  }

  async start() {
    if (this.proc) throw new Error('relay already running');
    this.runs += 1;
    mkdirSync(ARTIFACTS, { recursive: true });
    const log = createWriteStream(join(ARTIFACTS, `${this.name}-${this.runs}.log`));
    // A log that cannot be written must not take the test run down.
    log.on('error', () => {});
    const proc = spawn(this.bin, [], {
      env: {
        PATH: process.env.PATH,
        RUST_LOG: process.env.RUST_LOG ?? 'info',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        STUN_URLS: '',
        METRICS_PORT: '0',
        STATIC_DIR: this.staticPath,
        // Every page and fixture is 127.0.0.1, which gets no exemption from the per-address
        // caps; a suite's sessions and sockets add up on one relay, so they are raised here.
        MAX_SOCKETS_PER_IP: '10000',
        MAX_SESSIONS_PER_IP: '10000',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.pipe(log);
    proc.stderr.pipe(log);
    this.proc = proc;
    proc.exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
    let exited = null;
    proc.exited.then((e) => (exited = e));
    // Poll /health until it answers; on a loaded machine the first start can take a while.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`relay exited during start-up: ${JSON.stringify(exited)}; see ${log.path}`);
      try {
        const res = await fetch(`${this.origin}/health`);
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`relay did not answer /health within 30 s; see ${log.path}`);
      await sleep(50);
    }
  }

  /** Stops the process with `signal` and waits for it to exit (SIGKILL after 15 s). */
  async stop(signal = 'SIGTERM') {
    const proc = this.proc;
    if (!proc) return null;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    const result = await proc.exited;
    clearTimeout(timer);
    return result;
  }
}
