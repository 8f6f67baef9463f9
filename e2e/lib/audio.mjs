// Measuring what a guest hears, independently of the app: an AnalyserNode of our own on the
// MediaStream the page's <audio> element plays (the received WebRTC stream). The app's own hook
// (`window.__familiar.audioLevel()`) is read next to it, so a broken meter shows up too.
// Chrome feeds a remote stream into Web Audio only while an element plays it, which the app does.

/** RMS below this is silence; the test tone is far above it (a sine at -12 dB has RMS ≈ 0.18). */
export const SILENT = 0.005;

/** Installs `window.__e2eAudio` in the page: `level()` and a 100 ms sampler. Idempotent. */
export async function installProbe(page) {
  await page.evaluate(() => {
    if (window.__e2eAudio) return;
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    const buf = new Float32Array(analyser.fftSize);
    let stream = null;
    let source = null;
    const current = () => {
      for (const el of document.querySelectorAll('audio, video')) {
        if (el.srcObject instanceof MediaStream && el.srcObject.getAudioTracks().length) return el.srcObject;
      }
      return null;
    };
    const level = () => {
      const s = current();
      if (s !== stream) {
        source?.disconnect();
        source = s ? ctx.createMediaStreamSource(s) : null;
        source?.connect(analyser);
        stream = s;
      }
      if (!source) return 0;
      void ctx.resume();
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      return Math.sqrt(sum / buf.length);
    };
    const samples = [];
    let timer = null;
    window.__e2eAudio = {
      level,
      appLevel: () => (window.__familiar?.audioLevel ? window.__familiar.audioLevel() : null),
      startSampling() {
        samples.length = 0;
        timer ??= setInterval(() => {
          let app = null;
          try {
            app = window.__e2eAudio.appLevel();
          } catch {}
          samples.push({ t: performance.now(), level: level(), app });
        }, 100);
      },
      stopSampling() {
        clearInterval(timer);
        timer = null;
        return samples.slice();
      },
    };
  });
}

/** Our level and the app's, right now. */
export function levels(page) {
  return page.evaluate(() => ({ probe: window.__e2eAudio.level(), app: window.__e2eAudio.appLevel() }));
}

/** Waits until the received audio is audible (our analyser, sustained over 3 reads). */
export async function waitForAudio(page, timeout = 30_000) {
  await installProbe(page);
  await page.waitForFunction(
    (silent) => {
      const w = window.__e2eAudio;
      w.loud = w.level() > silent ? (w.loud ?? 0) + 1 : 0;
      return w.loud >= 3;
    },
    SILENT,
    { polling: 100, timeout },
  );
}

/** Waits until the page receives silence (or nothing) for 1 s on our analyser. */
export async function waitForSilence(page, timeout = 15_000) {
  await installProbe(page);
  await page.waitForFunction(
    (silent) => {
      const w = window.__e2eAudio;
      w.quiet = w.level() <= silent ? (w.quiet ?? 0) + 1 : 0;
      return w.quiet >= 10;
    },
    SILENT,
    { polling: 100, timeout },
  );
}

/** The longest run of silent samples, in ms, and how many samples there were. */
export function longestSilence(samples, key = 'level') {
  let longest = 0;
  let start = null;
  for (const s of samples) {
    const silent = !(s[key] > SILENT);
    if (silent && start === null) start = s.t;
    if (!silent && start !== null) {
      longest = Math.max(longest, s.t - start);
      start = null;
    }
  }
  if (start !== null && samples.length) longest = Math.max(longest, samples.at(-1).t - start + 100);
  return longest;
}
