// Unit tests of the small pure helpers: codes, time formatting, familiar defaults, relay URLs.

import { describe, expect, it } from 'vitest';
import { normalizeCode } from '../code';
import { formatTime } from '../format';
import { isFamiliar, randomFamiliar, seedFor } from '../familiar';
import { byCodeUrl, listenUrl, socketUrl } from '../../config/relay';

describe('normalizeCode', () => {
  it('is case-insensitive and tolerant of spaces and dashes', () => {
    expect(normalizeCode(' ab-c 12 ')).toBe('ABC12');
    expect(normalizeCode('xy_z/9')).toBe('XYZ9');
  });
});

describe('formatTime', () => {
  it('formats minutes and hours', () => {
    expect(formatTime(0)).toBe('0:00');
    expect(formatTime(75_999)).toBe('1:15');
    expect(formatTime(3_723_000)).toBe('1:02:03');
    expect(formatTime(-5)).toBe('0:00');
  });
});

describe('familiar', () => {
  it('seeds like the relay: sum of code points mod 10000', () => {
    expect(seedFor('ab')).toBe(97 + 98);
    expect(seedFor('😀')).toBe(0x1f600 % 10000);
  });

  it('validates what storage hands back', () => {
    expect(isFamiliar(randomFamiliar(() => 0.99))).toBe(true);
    expect(isFamiliar({ variant: 'blob', color: '#ffffff', accent: 'drift', seed: 1 })).toBe(false);
    expect(isFamiliar({ variant: 'halo', color: '#FFFFFF', accent: 'drift', seed: 1 })).toBe(false);
    expect(isFamiliar(null)).toBe(false);
  });
});

describe('relay URLs', () => {
  it('uses wss on https pages', () => {
    expect(socketUrl({ protocol: 'https:', host: 'relay.example:8443' })).toBe(
      'wss://relay.example:8443/api/v1/sessions/ws',
    );
    expect(socketUrl({ protocol: 'http:', host: 'localhost:8000' })).toBe('ws://localhost:8000/api/v1/sessions/ws');
  });

  it("names the guest's code in the socket URL, so a cluster routes it before the upgrade", () => {
    expect(socketUrl({ protocol: 'https:', host: 'relay.example' }, 'ab cd')).toBe(
      'wss://relay.example/api/v1/sessions/ws?code=ab%20cd',
    );
  });

  it('builds lookup and share links', () => {
    expect(byCodeUrl('AB C')).toBe('/api/v1/sessions/by-code/AB%20C');
    expect(listenUrl('ABC123', 'https://relay.example')).toBe('https://relay.example/listen/ABC123');
  });
});

describe('audio level', () => {
  it('computes RMS and maps it to the meter on a dB scale', async () => {
    const { rms, meterFraction } = await import('../audio');
    expect(rms([])).toBe(0);
    expect(rms([0.5, -0.5, 0.5, -0.5])).toBeCloseTo(0.5);
    expect(meterFraction(0)).toBe(0);
    expect(meterFraction(1)).toBe(1);
    expect(meterFraction(0.001)).toBeCloseTo(0);
    expect(meterFraction(0.1)).toBeCloseTo(2 / 3);
    expect(meterFraction(Number.NaN)).toBe(0);
  });
});
