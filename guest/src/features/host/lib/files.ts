// Files a person hands the host page: from a file input (several files, or a whole folder) or
// dropped on the page (files and folders, walked recursively). Audio files only, in the order of
// their paths with numbers compared as numbers, so "2 - …" comes before "10 - …".

import { isAudioFile } from './hostAudio';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function pathOf(file: File): string {
  return (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
}

export function sortedAudio(files: Iterable<File>, paths?: Map<File, string>): File[] {
  return [...files]
    .filter(isAudioFile)
    .sort((a, b) => collator.compare(paths?.get(a) ?? pathOf(a), paths?.get(b) ?? pathOf(b)));
}

/** The entries of a dropped folder, however many batches the browser hands them out in. */
async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, out: Map<File, string>): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.set(file, entry.fullPath);
  } else if (entry.isDirectory) {
    for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child, out);
  }
}

/** What was dropped: files as they are, folders walked; unreadable entries are skipped. */
export async function droppedFiles(data: DataTransfer): Promise<File[]> {
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return sortedAudio(data.files);
  const found = new Map<File, string>();
  for (const e of entries) {
    try {
      await walk(e, found);
    } catch {
      // A folder the browser will not read: the rest still count.
    }
  }
  return sortedAudio(found.keys(), found);
}
