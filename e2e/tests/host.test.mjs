// Issue 16: hosting from the browser. A host page plays a queue of three tagged tracks (the
// committed fixtures of guest/scripts/make-audio-fixtures.sh); a guest hears audio across every
// track change on the same peer connection (never renegotiated), with silence no longer than the
// gap between tracks, and sees each title, its cover and what is up next. A reload of the host
// page keeps the guests in the session and "Resume playing" brings the audio back; "End session"
// ends it for them; closing the tab without it shows the host away until the grace period ends.
// A tab's audio and a line-in are sources too (Chromium's own fake capture: a WAV file as the
// input device, and a tab it picks by title), on the same connection.


import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SILENT, installProbe, levels, waitForAudio } from '../lib/audio.mjs';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_FLAGS, LAPTOP, Person, people } from '../lib/browser.mjs';
import { serveFixtures } from '../lib/fixtures.mjs';
import { fillJoinForm, nowPlayingTitle, openAndJoin, roomMember, shot, waitConnected, waitForState } from '../lib/guest.mjs';
import { hostListEntry, startHostPage } from '../lib/host.mjs';
import { REPO_DIR, Relay } from '../lib/relay.mjs';
import { buildOnce, explain } from '../lib/setup.mjs';

const TEST_TIMEOUT = 180_000;
const FIXTURES = join(REPO_DIR, 'guest', 'src', 'features', 'host', 'lib', '__tests__', 'fixtures');
const TRACKS = [
  { file: '01-morning-light.mp3', title: 'Morning Light', artist: 'The Fixtures', cover: true },
  { file: '02-second-wind.mp3', title: 'Second Wind', artist: 'The Fixtures', cover: true },
  { file: '03-third-time-lucky.ogg', title: 'Third Time Lucky', artist: 'Ana & The Loops', cover: false },
];
/**
 * The longest silence the guest may hear across a track change. The host schedules each track
 * on the sample the previous one ends, so what remains is the files' own encoder padding and
 * the guest's jitter buffer (measured: 0 ms at 10 ms resolution); generous for a loaded 2-core
 * machine. The measured figure is printed.
 */
const MAX_GAP_MS = 250;

/** A short grace period for the relay of the close-without-ending test. */
const GRACE_MS = 4_000;

let relay;
let shortGraceRelay;
let fixtures;

before(async () => {
  const { bin, static: staticPath } = buildOnce();
  relay = await Relay.start({ bin, static: staticPath, name: 'relay-host' });
  shortGraceRelay = await Relay.start({ bin, static: staticPath, name: 'relay-host-grace', env: { RESUME_GRACE_MS: String(GRACE_MS) } });
  fixtures = await serveFixtures();
});

after(async () => {
  await relay?.stop('SIGTERM');
  await shortGraceRelay?.stop('SIGTERM');
  await fixtures?.close();
});

/**
 * Every message of `type` the page's sockets receive (or, with `direction: 'sent'`, send),
 * parsed: Playwright sees the frames. Attach before the page opens its socket.
 */
function recordFrames(page, type, direction = 'received') {
  const found = [];
  page.on('websocket', (ws) =>
    ws.on(direction === 'sent' ? 'framesent' : 'framereceived', ({ payload }) => {
      try {
        const msg = JSON.parse(String(payload));
        if (msg?.type === type) found.push(msg);
      } catch {
        // Not JSON: not ours to read.
      }
    }),
  );
  return found;
}

/**
 * A fine sampler of what the guest hears: a small analyser (256 samples, ~5 ms) read every
 * 10 ms (less often on a busy machine: the figure printed says how often), recording the
 * longest run of silence between `start()` and `stop()`.
 */
async function installGapMeter(page) {
  await installProbe(page);
  await page.evaluate(() => {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 256;
    const buf = new Float32Array(analyser.fftSize);
    let stream = null;
    let source = null;
    let timer = null;
    const runs = [];
    let silentSince = null;
    let samples = 0;
    let startedAt = 0;
    const tick = (silent) => {
      const el = [...document.querySelectorAll('audio')].find((a) => a.srcObject instanceof MediaStream);
      const s = el?.srcObject ?? null;
      if (s !== stream) {
        source?.disconnect();
        source = s ? ctx.createMediaStreamSource(s) : null;
        source?.connect(analyser);
        stream = s;
      }
      void ctx.resume();
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const quiet = !source || Math.sqrt(sum / buf.length) <= silent;
      const t = performance.now();
      samples++;
      if (quiet && silentSince === null) silentSince = t;
      if (!quiet && silentSince !== null) {
        runs.push(t - silentSince);
        silentSince = null;
      }
    };
    window.__e2eGap = {
      start(silent) {
        runs.length = 0;
        samples = 0;
        startedAt = performance.now();
        silentSince = null;
        timer = setInterval(() => tick(silent), 10);
      },
      stop() {
        clearInterval(timer);
        if (silentSince !== null) runs.push(performance.now() - silentSince);
        return { longest: Math.max(0, ...runs), runs: runs.length, samples, spanMs: performance.now() - startedAt };
      },
    };
  });
}

function peerCount(page) {
  return page.evaluate(() => (window.__e2ePeers ?? []).length);
}

function hostNowPlaying(page) {
  return page.getByTestId('host-now-playing');
}

test('a host plays a queue of three tagged tracks: the guest hears every change, sees titles, covers and up next', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [['host-queue', { viewport: LAPTOP }], ['guest-queue']]);
  // The host's own playback messages, from its first page (which startHostPage opens /host in).
  const sent = recordFrames(hostP.context.pages()[0], 'playback', 'sent');
  const host = await startHostPage(hostP, relay, { name: 'Sunday Queue', username: 'Quinn' });
  // Listening to the guest's socket from before the page opens it.
  const guest = await guestP.open('about:blank');
  const updates = recordFrames(guest, 'playback_update');
  await guest.goto(host.link);
  await fillJoinForm(guest, 'Gus');
  const pages = { host: host.page, guest };
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  await installGapMeter(guest);
  const peersBefore = await peerCount(guest);
  assert.equal(peersBefore, 1, 'the guest has one peer connection with the tone playing');

  // Switch the source to "Your music" (the tone plays on while nothing is queued), repeat the
  // whole queue (so a slow machine cannot miss a track), and add the three files in one go.
  await host.page.getByRole('radio', { name: 'Your music' }).check({ force: true });
  await host.page.getByRole('button', { name: 'Repeat: off' }).click();
  await host.page.getByRole('button', { name: 'Repeat: all' }).waitFor();
  assert.ok((await levels(guest)).probe > SILENT, 'picking "Your music" with nothing queued keeps the tone playing');
  await guest.evaluate((silent) => window.__e2eGap.start(silent), SILENT);
  await host.page.getByLabel('Add audio files').setInputFiles(TRACKS.map((tr) => join(FIXTURES, tr.file)));
  let switchGap;

  await explain(pages, async () => {
    // The tags (not the file names) reach the guest as the title and artist.
    await nowPlayingTitle(guest).filter({ hasText: TRACKS[0].title }).waitFor({ timeout: 15_000 });
    // The switch from the tone to the first track (which is decoded first) is a gap of its own;
    // the track changes are measured from when the first track is heard.
    await guest.waitForFunction((silent) => window.__e2eAudio.level() > silent, SILENT, { polling: 10 });
    switchGap = await guest.evaluate(() => window.__e2eGap.stop());
    await guest.evaluate((silent) => window.__e2eGap.start(silent), SILENT);
    await guest.getByText(`${TRACKS[0].artist} · Test Pressings`).waitFor();
    await guest.getByRole('img', { name: `Cover of ${TRACKS[0].title}` }).waitFor({ timeout: 10_000 });
    await host.page.getByRole('list', { name: 'Queue' }).getByRole('listitem').nth(2).filter({ hasText: TRACKS[2].title }).waitFor();
    await shot(guest, '16-guest-queue-first-track');
    await shot(host.page, '16-host-queue');
    for (const tr of TRACKS.slice(1)) {
      await nowPlayingTitle(guest).filter({ hasText: tr.title }).waitFor({ timeout: 15_000 });
      const cover = guest.getByRole('img', { name: `Cover of ${tr.title}` });
      if (tr.cover) await cover.waitFor({ timeout: 10_000 });
      else assert.equal(await cover.count(), 0, `${tr.title} has no cover, so none is shown`);
    }
    // Into the third (last) track, a second past its start, so the last change is well measured.
    await guest.getByLabel('Position').filter({ hasText: /^0:0[1-9]$/ }).waitFor({ timeout: 10_000 });
    await host.page.waitForFunction(() => (window.__familiar?.audioLevel?.() ?? 0) > 0.01, null, { polling: 100 });
  });
  const gap = await guest.evaluate(() => window.__e2eGap.stop());
  console.log(`# switching from the tone to the queue: the guest heard at most ${switchGap.longest.toFixed(0)} ms of silence`);
  const every = gap.spanMs / Math.max(1, gap.samples);
  console.log(`# guest heard the longest silence of ${gap.longest.toFixed(0)} ms across 2 track changes (${gap.samples} samples over ${(gap.spanMs / 1000).toFixed(1)} s, one per ${every.toFixed(0)} ms)`);
  assert.ok(gap.samples > 100, `the gap meter sampled (${gap.samples})`);
  assert.ok(gap.longest <= MAX_GAP_MS, `silence across track changes was ${gap.longest.toFixed(0)} ms (at most ${MAX_GAP_MS})`);
  assert.equal(await peerCount(guest), peersBefore, 'switching source and tracks made no new peer connection');
  const states = await guest.evaluate(() => window.__e2ePeers[0].states.map(([, s]) => s));
  assert.ok(!states.includes('disconnected') && !states.includes('failed'), `the one connection stayed up (${states.join(' → ')})`);
  // The guest was told each track in order, each with a track id of its own, from its tags from
  // the first update (never the file name).
  const told = updates.filter((u) => u.track_meta?.title && u.track_meta.title !== 'Test tone');
  const order = told.map((u) => u.track_meta.title).filter((title, i, all) => title !== all[i - 1]);
  assert.deepEqual(order.slice(0, 3), TRACKS.map((tr) => tr.title), 'playback updates named each track in order');
  const ids = told.map((u) => u.track_id).filter((id, i, all) => id !== all[i - 1]);
  assert.equal(ids.slice(0, 3).length, new Set(ids.slice(0, 3)).size, 'each track had its own track_id');

  // What the host says is up next (the wire addition), whether or not the relay passes it on:
  // the last word while the first track played (the others' tags may still be on their way in
  // the first one, which then names them by file).
  const hostFirst = sent.findLast((m) => m.track_meta?.title === TRACKS[0].title);
  assert.ok(hostFirst, `the host sent playback for the first track (${sent.length} playback messages seen)`);
  assert.deepEqual(hostFirst.up_next, [
    { title: TRACKS[1].title, artist: TRACKS[1].artist, album: 'Test Pressings' },
    { title: TRACKS[2].title, artist: TRACKS[2].artist, album: 'B-Sides' },
  ], 'the host sent the other two as up_next');
  const hostTone = sent.find((m) => m.track_meta?.title === 'Test tone');
  assert.deepEqual(hostTone?.up_next, [], 'the tone has nothing up next');

  await t.test('the guest sees up next', async () => {
    assert.ok(updates.some((u) => 'up_next' in u), 'the relay passes up_next on in playback_update');
    const first = updates.findLast((u) => u.track_meta?.title === TRACKS[0].title && Array.isArray(u.up_next));
    assert.deepEqual(
      first?.up_next?.map((n) => n.title),
      [TRACKS[1].title, TRACKS[2].title],
      'while the first track played, up next listed the other two',
    );
    // On the page, when the repeated queue comes round to the first track again.
    await nowPlayingTitle(guest).filter({ hasText: TRACKS[0].title }).waitFor({ timeout: 20_000 });
    await guest.getByRole('list', { name: 'Up next' }).filter({ hasText: /Second Wind[\s\S]*Third Time Lucky/ }).waitFor();
    // Repeating the whole queue: while the last track plays, the first is up next again.
    const last = updates.findLast((u) => u.track_meta?.title === TRACKS[2].title && Array.isArray(u.up_next));
    assert.deepEqual(last?.up_next?.map((n) => n.title), [TRACKS[0].title, TRACKS[1].title], 'up next wraps under repeat-all');
  });
});

test('a host reload keeps the guests in the session; Resume playing brings the queue back; End session ends it', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [['host-reload', { viewport: LAPTOP }], ['guest-reload']]);
  const host = await startHostPage(hostP, relay, { name: 'Reload Party', username: 'Rita' });
  const guest = await openAndJoin(guestP, host.link, 'Rex');
  const pages = { host: host.page, guest };
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  // A queue on repeat, so it is still playing whenever the reload comes.
  await host.page.getByRole('radio', { name: 'Your music' }).check({ force: true });
  await host.page.getByLabel('Add audio files').setInputFiles(TRACKS.map((tr) => join(FIXTURES, tr.file)));
  await host.page.getByRole('button', { name: 'Repeat: off' }).click();
  await host.page.getByRole('button', { name: 'Repeat: all' }).waitFor();
  const titles = new RegExp(TRACKS.map((tr) => tr.title).join('|'));
  await explain(pages, () => nowPlayingTitle(guest).filter({ hasText: titles }).waitFor({ timeout: 15_000 }));

  await host.page.reload();
  await explain(pages, async () => {
    // The reloaded page is back in the same session, and asks for the tap that plays again.
    const resume = host.page.getByRole('button', { name: 'Resume playing' });
    await resume.waitFor({ timeout: 20_000 });
    await host.page.getByRole('status').filter({ hasText: /^Live/ }).waitFor({ timeout: 20_000 });
    assert.equal(await host.page.evaluate(() => window.__familiar?.code?.()), host.code, 'same session code after the reload');
    // The queue came back with the tab (its files kept in IndexedDB), tags read again.
    await host.page.getByRole('list', { name: 'Queue' }).getByRole('listitem').filter({ hasText: TRACKS[2].title }).waitFor();
    await host.page.getByRole('button', { name: 'Repeat: all' }).waitFor();
    await shot(host.page, '16-host-after-reload');
    // The guest never left: still in the room with the host.
    assert.ok(!['host_ended', 'left', 'kicked'].includes(await guest.evaluate(() => window.__familiar?.state?.())), 'the guest is still in the session');
    await roomMember(guest, 'Rita').waitFor();
    await resume.click();
    await waitConnected(guest, 45_000);
    await waitForAudio(guest);
    await nowPlayingTitle(guest).filter({ hasText: titles }).waitFor();
  });
  await hostListEntry(host.page, 'Rex').filter({ hasText: /Connected/ }).waitFor();

  await host.page.getByRole('button', { name: 'End session' }).click();
  await explain(pages, () => waitForState(guest, 'host_ended', 20_000));
  // A reload after ending starts at the setup form: nothing is resumed.
  await host.page.reload();
  await host.page.getByRole('button', { name: 'Start session' }).waitFor();
});

test('a host that closes its tab without ending is away for the grace period, then the session ends', { timeout: TEST_TIMEOUT }, async (t) => {
  const [hostP, guestP] = await people(t, [['host-close', { viewport: LAPTOP }], ['guest-close']]);
  const host = await startHostPage(hostP, shortGraceRelay, { name: 'Gone Quiet', username: 'Cleo' });
  const guest = await openAndJoin(guestP, host.link, 'Cy');
  const pages = { host: host.page, guest };
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  hostP.context.on('dialog', (d) => d.accept());
  const closedAt = Date.now();
  await host.page.close({ runBeforeUnload: true });
  // First away (the page says it waits for the host), not ended: it might be a reload.
  await explain({ guest }, () => guest.getByText("The host's connection dropped; waiting for them to come back.").waitFor({ timeout: 10_000 }));
  assert.notEqual(await guest.evaluate(() => window.__familiar?.state?.()), 'host_ended', 'not ended while the host may come back');
  // Then the end, once the relay's grace period has run out.
  await explain({ guest }, () => guest.getByRole('heading', { name: 'The session has ended' }).waitFor({ timeout: GRACE_MS + 20_000 }));
  const tookMs = Date.now() - closedAt;
  t.diagnostic(`the guest saw the end ${tookMs} ms after the host closed its tab (grace period ${GRACE_MS} ms)`);
  assert.ok(tookMs >= GRACE_MS - 500, `the end came after the grace period (${tookMs} ms)`);
});

/** 2 s of a 440 Hz sine as a 16-bit mono WAV: what Chromium's fake input device plays, looped. */
function sineWav(path) {
  const rate = 48_000;
  const n = rate * 2;
  const wav = Buffer.alloc(44 + n * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + n * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12_000), 44 + i * 2);
  writeFileSync(path, wav);
  return path;
}

/**
 * A host whose Chromium has capture devices: the fake input plays `wav`, and a request to share
 * a tab picks the one titled "Tone Tab". Records the constraints the page asks the input with.
 */
async function launchCapturingHost(t, name) {
  const profile = mkdtempSync(join(tmpdir(), `familiar-e2e-${name}-`));
  const wav = sineWav(join(profile, 'line-in.wav'));
  const context = await chromium.launchPersistentContext(join(profile, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_FLAGS,
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--auto-select-tab-capture-source-by-title=Tone Tab',
    ],
    viewport: LAPTOP,
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  await context.addInitScript(() => {
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) return;
    const asked = (window.__e2eAsked = []);
    const native = md.getUserMedia.bind(md);
    md.getUserMedia = (constraints) => {
      asked.push(JSON.parse(JSON.stringify(constraints)));
      return native(constraints);
    };
  });
  const person = new Person(name, context, profile);
  context.on('page', (page) => person.watch(page));
  for (const page of context.pages()) person.watch(page);
  t.after(() => person.close().catch(() => {}));
  return person;
}

test('a tab’s audio and a line-in are sources too: the guest hears each on the same connection', { timeout: TEST_TIMEOUT }, async (t) => {
  const hostP = await launchCapturingHost(t, 'host-live');
  const [guestP] = await people(t, [['guest-live']]);
  const host = await startHostPage(hostP, relay, { name: 'Live Sources', username: 'Lou' });
  const guest = await openAndJoin(guestP, host.link, 'Lee');
  const pages = { host: host.page, guest };
  await explain(pages, async () => {
    await waitConnected(guest);
    await waitForAudio(guest);
  });
  // The tab to share, playing its tone, open beside the host page.
  const toneTab = await hostP.context.newPage();
  await toneTab.goto(`${fixtures.origin}/tone-tab.html`);
  await host.page.bringToFront();

  await host.page.getByRole('radio', { name: 'Tab or screen audio' }).check({ force: true });
  await explain(pages, async () => {
    await nowPlayingTitle(guest).filter({ hasText: 'Tab audio' }).waitFor({ timeout: 15_000 });
    await waitForAudio(guest);
  });
  await shot(guest, '16-guest-tab-audio');

  await host.page.getByRole('radio', { name: 'Microphone or line-in' }).check({ force: true });
  await explain(pages, async () => {
    await nowPlayingTitle(guest).filter({ hasText: 'Live input' }).waitFor({ timeout: 15_000 });
    await waitForAudio(guest);
  });
  const asked = await host.page.evaluate(() => window.__e2eAsked);
  assert.deepEqual(
    asked.at(-1)?.audio,
    { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    'the input is opened for music: no echo cancelling, noise suppression or automatic gain',
  );
  assert.equal(await peerCount(guest), 1, 'switching to the tab and the input made no new peer connection');
});
