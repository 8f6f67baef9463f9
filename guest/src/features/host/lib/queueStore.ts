// The queue outlives a reload of the tab: its files (written once each, as the browser keeps a
// File in IndexedDB) and its shape (order, current track and position, repeat, shuffle; written
// on every change and once a second while live) under the tab's own id, which sessionStorage
// keeps beside the resume token. "End session" deletes them; records of tabs that stopped
// writing long ago (closed without ending) are deleted by the next host page. Tags are not
// stored: they are read again from the files. Any storage failure just means no queue after a
// reload.

import type { Repeat } from './queue';

const DB = 'familiar-host';
const FILES = 'files';
const QUEUES = 'queues';
/** A tab that has not written for this long is gone (its session is long over). */
const STALE_MS = 6 * 60 * 60 * 1000;

export interface StoredQueue {
  tab: string;
  /** Track ids in play order, each with its insertion number. */
  items: { id: string; added: number }[];
  current: string | null;
  repeat: Repeat;
  shuffle: boolean;
  nextAdded: number;
  positionMs: number;
  savedAt: number;
}

let opening: Promise<IDBDatabase | null> | null = null;

function db(): Promise<IDBDatabase | null> {
  opening ??= new Promise((resolve) => {
    try {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore(FILES);
        req.result.createObjectStore(QUEUES, { keyPath: 'tab' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
  return opening;
}

function done(tx: IDBTransaction): Promise<boolean> {
  return new Promise((resolve) => {
    tx.oncomplete = () => resolve(true);
    tx.onerror = () => resolve(false);
    tx.onabort = () => resolve(false);
  });
}

function request<T>(req: IDBRequest<T>): Promise<T | undefined> {
  return new Promise((resolve) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(undefined);
  });
}

const fileKey = (tab: string, id: string) => `${tab}/${id}`;

export class QueueStore {
  readonly tab: string;
  readonly #written = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();

  constructor(tab: string) {
    this.tab = tab;
  }

  /** Writes what changed, in order (a later save never lands before an earlier one). */
  save(queue: Omit<StoredQueue, 'tab' | 'savedAt'>, files: Map<string, File>): Promise<unknown> {
    const record: StoredQueue = { ...queue, tab: this.tab, savedAt: Date.now() };
    const next = this.#chain.then(async () => {
      const d = await db();
      if (!d) return;
      const keep = new Set(record.items.map((e) => e.id));
      const tx = d.transaction([FILES, QUEUES], 'readwrite');
      for (const [id, file] of files) {
        if (keep.has(id) && !this.#written.has(id)) {
          tx.objectStore(FILES).put(file, fileKey(this.tab, id));
          this.#written.add(id);
        }
      }
      for (const id of [...this.#written]) {
        if (!keep.has(id)) {
          tx.objectStore(FILES).delete(fileKey(this.tab, id));
          this.#written.delete(id);
        }
      }
      tx.objectStore(QUEUES).put(record);
      if (!(await done(tx))) this.#written.clear();
    });
    this.#chain = next.catch(() => {});
    return this.#chain;
  }

  /** The queue this tab stored, with its files; null if none (or storage is unavailable). */
  async load(): Promise<{ queue: StoredQueue; files: Map<string, File> } | null> {
    const d = await db();
    if (!d) return null;
    try {
      const tx = d.transaction([FILES, QUEUES], 'readonly');
      const queue = (await request(tx.objectStore(QUEUES).get(this.tab))) as StoredQueue | undefined;
      if (!queue) return null;
      const files = new Map<string, File>();
      for (const { id } of queue.items) {
        const file = await request(tx.objectStore(FILES).get(fileKey(this.tab, id)));
        if (file instanceof File) {
          files.set(id, file);
          this.#written.add(id);
        }
      }
      return { queue, files };
    } catch {
      return null;
    }
  }

  /** Deletes this tab's queue and files ("End session"). */
  clear(): Promise<unknown> {
    const tab = this.tab;
    this.#written.clear();
    this.#chain = this.#chain.then(() => removeTabs((t) => t === tab)).catch(() => {});
    return this.#chain;
  }
}

/** Deletes the records of tabs that stopped writing long ago (closed without "End session"). */
export function forgetStaleTabs(now = Date.now()): Promise<unknown> {
  return removeTabs((_tab, savedAt) => now - savedAt > STALE_MS).catch(() => {});
}

async function removeTabs(which: (tab: string, savedAt: number) => boolean): Promise<void> {
  const d = await db();
  if (!d) return;
  const all = ((await request(d.transaction(QUEUES, 'readonly').objectStore(QUEUES).getAll())) ?? []) as StoredQueue[];
  const gone = all.filter((q) => which(q.tab, q.savedAt));
  if (gone.length === 0) return;
  const tx = d.transaction([FILES, QUEUES], 'readwrite');
  for (const q of gone) {
    tx.objectStore(QUEUES).delete(q.tab);
    tx.objectStore(FILES).delete(IDBKeyRange.bound(`${q.tab}/`, `${q.tab}/\uffff`));
  }
  await done(tx);
}
