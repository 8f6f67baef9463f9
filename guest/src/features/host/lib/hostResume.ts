// What the host page keeps for its tab (sessionStorage) so a reload resumes the session instead
// of ending it: the `create` it sent (the client re-sends it if the relay no longer knows the
// token), the source and tempo to offer again, and the tab's id under which the queue's files
// are kept (queueStore.ts). The resume token itself is the client's.
// "End session" clears it all.

import type { Intent } from '../../../protocol/client';
import type { SourceKind } from './hostAudio';

export const HOST_TOKEN_KEY = 'familiar:resume:host';
const SETUP_KEY = 'familiar:host:setup';

export interface SavedSetup {
  /** This tab's id for what it stores beyond sessionStorage (the queue's files). */
  tab: string;
  intent: Extract<Intent, { type: 'create' }>;
  source: SourceKind;
  bpm: number | null;
}

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

export function saveSetup(setup: SavedSetup): void {
  try {
    storage()?.setItem(SETUP_KEY, JSON.stringify(setup));
  } catch {
    // Full or denied: a reload then starts from the setup form.
  }
}

/** The saved setup, if this tab holds one and a resume token beside it. */
export function loadSetup(): SavedSetup | null {
  try {
    const s = storage();
    const raw = s?.getItem(SETUP_KEY);
    if (!raw || !s?.getItem(HOST_TOKEN_KEY)) return null;
    const v = JSON.parse(raw) as Partial<SavedSetup>;
    if (!v.intent || v.intent.type !== 'create' || typeof v.source !== 'string' || typeof v.tab !== 'string') return null;
    return { tab: v.tab, intent: v.intent, source: v.source, bpm: typeof v.bpm === 'number' ? v.bpm : null };
  } catch {
    return null;
  }
}

export function clearSetup(): void {
  try {
    storage()?.removeItem(SETUP_KEY);
  } catch {
    // Nothing to clear.
  }
}

/** A new id for a tab that starts hosting. */
export function newTabId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
