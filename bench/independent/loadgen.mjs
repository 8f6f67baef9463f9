// A second load generator, written apart from familiar-bench so that the two check each other:
// Node's TCP stack and the `ws` client instead of tokio and tungstenite, one source address,
// every client connecting the moment it is told to, and people who chat at moments of their own
// choosing (a random phase each) rather than on an even lattice. It measures what a browser
// would see.
//
//   node loadgen.mjs chat --url ws://127.0.0.1:18080/api/v1/sessions/ws [--sessions 100]
//        [--participants 10] [--seconds 60] [--rate 1] [--seed 1]
//   node loadgen.mjs join --url … [--sessions 50] [--guests 1000] [--in-flight 200]
//
// It refuses any URL that is not on loopback: this machine may load no other. Prints a table
// and, as its last line, one JSON object with every figure.

import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const args = parseArgs(process.argv.slice(2));
const scenario = args._[0];
const url = args.url ?? 'ws://127.0.0.1:18080/api/v1/sessions/ws';
assertLoopback(url);

/** Deterministic random numbers (mulberry32), so a run can be repeated. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) out[a.slice(2)] = argv[++i];
    else out._.push(a);
  }
  return out;
}

function assertLoopback(target) {
  const host = new URL(target).hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || host.startsWith('127.'))) {
    console.error(`refusing ${target}: the load generator sends traffic to loopback only`);
    process.exit(2);
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

const ms = (v) => (Number.isNaN(v) ? '–' : v.toFixed(2));

/** Opens a socket and sends `hello`; resolves with the socket and the welcome frame. */
function enter(hello, welcome, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('timeout'));
    }, timeoutMs);
    ws.on('open', () => ws.send(JSON.stringify(hello)));
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const onMessage = (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === welcome) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve({ ws, msg, elapsed: performance.now() - started });
      } else if (msg.type === 'error') {
        clearTimeout(timer);
        ws.terminate();
        reject(new Error(msg.code ?? msg.message));
      }
    };
    ws.on('message', onMessage);
  });
}

/** Runs `tasks` (functions returning promises) with at most `limit` at once, all started together. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = { ok: await tasks[i]() };
      } catch (e) {
        results[i] = { error: String(e.message ?? e) };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

async function openSessions(count, limit) {
  const hosts = await pool(
    Array.from({ length: count }, (_, i) => () =>
      enter({ type: 'create', name: `independent-${i}`, username: `host-${i}` }, 'session_created'),
    ),
    limit,
  );
  const failed = hosts.filter((h) => !h.ok).length;
  if (failed) throw new Error(`${failed} of ${count} hosts could not create a session`);
  return hosts.map((h) => ({ ws: h.ok.ws, code: h.ok.msg.session.code, createMs: h.ok.elapsed }));
}

async function chatScenario() {
  const sessions = Number(args.sessions ?? 100);
  const participants = Number(args.participants ?? 10);
  const seconds = Number(args.seconds ?? 60);
  const rate = Number(args.rate ?? 1);
  const random = rng(Number(args.seed ?? 1));
  const inFlight = Number(args['in-flight'] ?? 200);

  const hosts = await openSessions(sessions, inFlight);
  const joins = [];
  for (let s = 0; s < sessions; s++) {
    for (let g = 1; g < participants; g++) {
      joins.push(() =>
        enter({ type: 'join_guest', code: hosts[s].code, guest_name: `g-${s}-${g}` }, 'session_joined'),
      );
    }
  }
  const joined = await pool(joins, inFlight);
  const failedJoins = joined.filter((j) => !j.ok).length;
  if (failedJoins) throw new Error(`${failedJoins} guests could not join`);

  // Everyone in session s: host first, then guests in join order.
  const members = [];
  let k = 0;
  for (let s = 0; s < sessions; s++) {
    members.push({ session: s, index: 0, ws: hosts[s].ws });
    for (let g = 1; g < participants; g++) members.push({ session: s, index: g, ws: joined[k++].ok.ws });
  }

  const perSender = seconds * rate;
  const latencies = [];
  let delivered = 0;
  let duplicated = 0;
  let reordered = 0;
  let foreign = 0;
  let measuring = true;
  for (const m of members) {
    // seen[sender] = highest counter seen, and which ones.
    m.seen = Array.from({ length: participants }, () => ({ highest: -1, got: new Uint8Array(perSender) }));
    m.ws.on('message', (data) => {
      if (!measuring) return;
      const at = performance.now();
      const msg = JSON.parse(data.toString());
      if (msg.type !== 'chat') return;
      const [session, sender, counter, sentAt] = String(msg.message).split(':').map(Number);
      if (session !== m.session) {
        foreign++;
        return;
      }
      const from = m.seen[sender];
      if (!from || counter >= perSender) {
        foreign++;
        return;
      }
      if (from.got[counter]) {
        duplicated++;
        return;
      }
      from.got[counter] = 1;
      if (counter < from.highest) reordered++;
      from.highest = Math.max(from.highest, counter);
      delivered++;
      latencies.push(at - sentAt);
    });
  }

  // Each person chats `rate` times a second from a random phase of their own.
  const interval = 1000 / rate;
  const started = performance.now();
  const timers = [];
  for (const m of members) {
    const phase = random() * interval;
    let counter = 0;
    const sendNext = () => {
      if (counter >= perSender) return;
      const text = `${m.session}:${m.index}:${counter}:${performance.now()}`;
      m.ws.send(JSON.stringify({ type: 'chat', message: text }));
      counter++;
      const due = started + phase + counter * interval;
      timers.push(setTimeout(sendNext, Math.max(0, due - performance.now())));
    };
    timers.push(setTimeout(sendNext, phase));
  }
  const expected = members.length * perSender * participants;
  const deadline = started + seconds * 1000 + 5000;
  while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  measuring = false;
  for (const t of timers) clearTimeout(t);
  for (const m of members) m.ws.close();

  const lat = summary(latencies);
  const result = {
    scenario: 'chat',
    generator: 'independent (node + ws)',
    sessions,
    participants,
    seconds,
    rate,
    expected,
    delivered,
    lost: expected - delivered,
    duplicated,
    reordered,
    foreign,
    latency_ms: lat,
  };
  console.log(`chat ${sessions} × ${participants}, ${rate}/s each for ${seconds} s (independent generator)`);
  console.log(`  delivered           ${delivered} of ${expected}; lost ${expected - delivered}, duplicated ${duplicated}, reordered ${reordered}, foreign ${foreign}`);
  console.log(`  latency ms          p50 ${ms(lat.p50)}  p90 ${ms(lat.p90)}  p99 ${ms(lat.p99)}  max ${ms(lat.max)}`);
  console.log(JSON.stringify(result));
}

async function joinScenario() {
  const sessions = Number(args.sessions ?? 50);
  const guests = Number(args.guests ?? 1000);
  const inFlight = Number(args['in-flight'] ?? 200);
  const hosts = await openSessions(sessions, inFlight);
  const started = performance.now();
  const results = await pool(
    Array.from({ length: guests }, (_, i) => () =>
      enter({ type: 'join_guest', code: hosts[i % sessions].code, guest_name: `j-${i}` }, 'session_joined'),
    ),
    inFlight,
  );
  const elapsed = performance.now() - started;
  const times = results.filter((r) => r.ok).map((r) => r.ok.elapsed);
  const failures = results.filter((r) => !r.ok).length;
  // A SYN dropped by a full accept queue is retransmitted after 1 s: such joins take over 900 ms.
  const retransmitted = times.filter((t) => t > 900).length;
  for (const r of results) r.ok?.ws.close();
  for (const h of hosts) h.ws.close();
  const create = summary(hosts.map((h) => h.createMs));
  const join = summary(times);
  const result = {
    scenario: 'join',
    generator: 'independent (node + ws)',
    sessions,
    guests,
    in_flight: inFlight,
    joined: times.length,
    failures,
    over_900ms: retransmitted,
    joins_per_sec: (times.length / elapsed) * 1000,
    create_ms: create,
    join_ms: join,
  };
  console.log(`join ${guests} guests over ${sessions} sessions, ${inFlight} in flight (independent generator)`);
  console.log(`  joined              ${times.length} of ${guests}, ${failures} failed, ${(result.joins_per_sec).toFixed(0)}/s`);
  console.log(`  connect → joined ms p50 ${ms(join.p50)}  p90 ${ms(join.p90)}  p99 ${ms(join.p99)}  max ${ms(join.max)}`);
  console.log(`  over 900 ms         ${retransmitted} (a SYN retransmit after a full accept queue)`);
  console.log(JSON.stringify(result));
}

const scenarios = { chat: chatScenario, join: joinScenario };
if (!scenarios[scenario]) {
  console.error('usage: node loadgen.mjs chat|join --url ws://127.0.0.1:PORT/api/v1/sessions/ws [flags]');
  process.exit(2);
}
scenarios[scenario]().then(
  () => process.exit(0),
  (e) => {
    console.error(`failed: ${e.message}`);
    process.exit(1);
  },
);
