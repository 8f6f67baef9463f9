// Audio helpers: RMS level of a sample buffer, mapping it to a meter, the silent clip that
// unlocks an <audio> element inside a tap (iOS Safari only lets an element play later if it
// played during a user gesture).

/** 1 sample-frame WAV of silence, small enough to inline. */
export const SILENT_WAV =
  'data:audio/wav;base64,UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==';

export function rms(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] ?? 0;
    sum += s * s;
  }
  return Math.sqrt(sum / samples.length);
}

/** RMS → 0..1 on a decibel scale (-60 dB..0 dB), so quiet music still moves the meter. */
export function meterFraction(level: number): number {
  if (!(level > 0)) return 0;
  const db = 20 * Math.log10(level);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/** The current RMS of an analyser's input. */
export function analyserLevel(analyser: AnalyserNode, buffer: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(buffer);
  return rms(buffer);
}

type AudioContextCtor = new () => AudioContext;

export function newAudioContext(): AudioContext | null {
  const w = window as unknown as { AudioContext?: AudioContextCtor; webkitAudioContext?: AudioContextCtor };
  const Ctor = w.AudioContext ?? w.webkitAudioContext;
  return Ctor ? new Ctor() : null;
}
