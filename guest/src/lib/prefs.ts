// What this device remembers between visits (localStorage): the person's name, familiar and
// volume. Every access is guarded because storage can be missing or throw (private modes).

import type { Familiar } from '../protocol/wire';
import { isFamiliar } from './familiar';

const NAME_KEY = 'familiar:name';
const FAMILIAR_KEY = 'familiar:familiar';
const VOLUME_KEY = 'familiar:volume';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembering is fine: the next visit just asks again.
  }
}

export const prefs = {
  name: (): string => read(NAME_KEY) ?? '',
  setName: (name: string): void => write(NAME_KEY, name),
  familiar(): Familiar | null {
    try {
      const value: unknown = JSON.parse(read(FAMILIAR_KEY) ?? 'null');
      return isFamiliar(value) ? value : null;
    } catch {
      return null;
    }
  },
  setFamiliar: (f: Familiar): void => write(FAMILIAR_KEY, JSON.stringify(f)),
  volume(): number {
    const v = Number(read(VOLUME_KEY) ?? '1');
    return Number.isFinite(v) && v >= 0 && v <= 1 ? v : 1;
  },
  setVolume: (v: number): void => write(VOLUME_KEY, String(v)),
};
