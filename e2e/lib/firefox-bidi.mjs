#!/usr/bin/env node
// Stands in for the Firefox executable that playwright-core launches over WebDriver BiDi: starts
// Debian's firefox-esr with the same arguments and puts a loopback BiDi relay in front of its
// WebDriver endpoint. The relay passes every message through unchanged, except that an
// "unknown command" error for `emulation.setMediaFeaturesOverride` becomes an empty success.
// Playwright sends that command for every new context (to reset prefers-color-scheme emulation,
// which these tests never use); Firefox ESR 153 does not implement it yet, and without this the
// first `newContext()` fails. Once Firefox implements it, its real answer passes through.
//
// Playwright learns the endpoint from the "WebDriver BiDi listening on ws://…" line on stderr,
// so that line is rewritten to point at the relay. Playwright kills the whole process group on
// close, which takes Firefox with it; a Firefox that exits by itself ends this process too.

import { spawn } from 'node:child_process';
import { WebSocket, WebSocketServer } from 'ws';

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
/** Commands Firefox may not know yet that only set emulation these tests do not rely on. */
const OPTIONAL_COMMANDS = new Set(['emulation.setMediaFeaturesOverride']);

const firefox = spawn(FIREFOX, process.argv.slice(2), { stdio: ['ignore', 'inherit', 'pipe'] });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => firefox.kill(signal));
firefox.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

let pending = '';
firefox.stderr.on('data', (chunk) => {
  pending += chunk.toString();
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    const m = line.match(/^(.*WebDriver BiDi listening on )(ws:\/\/\S+)\s*$/);
    if (m) relay(m[2]).then((url) => process.stderr.write(`${m[1]}${url}\n`));
    else process.stderr.write(`${line}\n`);
  }
});

/** Listens on a free loopback port; each connection gets its own upstream socket. */
function relay(upstreamBase) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', (client, req) => {
    const upstream = new WebSocket(upstreamBase + req.url, { perMessageDeflate: false });
    const optionalIds = new Set();
    const queued = [];
    client.on('message', (data) => {
      const text = data.toString();
      try {
        const msg = JSON.parse(text);
        if (OPTIONAL_COMMANDS.has(msg.method)) optionalIds.add(msg.id);
      } catch {
        // Not JSON: Firefox will say so itself.
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else queued.push(text);
    });
    upstream.on('open', () => queued.splice(0).forEach((text) => upstream.send(text)));
    upstream.on('message', (data) => {
      let text = data.toString();
      if (optionalIds.size) {
        try {
          const msg = JSON.parse(text);
          if (optionalIds.delete(msg.id) && msg.type === 'error' && msg.error === 'unknown command') {
            text = JSON.stringify({ type: 'success', id: msg.id, result: {} });
          }
        } catch {
          // Pass it on as it came.
        }
      }
      if (client.readyState === WebSocket.OPEN) client.send(text);
    });
    const closeBoth = () => {
      client.close();
      upstream.close();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });
  return new Promise((resolve) =>
    server.on('listening', () => resolve(`ws://127.0.0.1:${server.address().port}`)),
  );
}
