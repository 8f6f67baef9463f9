// Adding music to the queue: several files, a whole folder, or files and folders dropped here.

import { useState } from 'react';
import { droppedFiles, sortedAudio } from '../lib/files';

export function AddMusic({ onFiles, hint }: { onFiles: (files: File[]) => void; hint?: string }) {
  const [over, setOver] = useState(false);
  const pick = (list: FileList | null) => {
    const files = sortedAudio(list ?? []);
    if (files.length) onFiles(files);
  };
  return (
    <div
      className={`rounded-2xl border border-dashed p-4 ${over ? 'border-ember bg-glow' : 'border-line'}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void droppedFiles(e.dataTransfer).then((files) => files.length && onFiles(files));
      }}
    >
      <p className="text-sm text-sand">{hint ?? 'Drop audio files or a folder here, or'}</p>
      <div className="mt-2 flex flex-wrap gap-2">
        <label className="btn-ghost cursor-pointer text-sm">
          Add files
          <input type="file" accept="audio/*" multiple className="sr-only" aria-label="Add audio files" onChange={(e) => pick(e.target.files)} />
        </label>
        <label className="btn-ghost cursor-pointer text-sm">
          Add a folder
          <input
            type="file"
            multiple
            className="sr-only"
            aria-label="Add a folder of music"
            // Not in React's typings: lets the picker choose a whole folder.
            {...{ webkitdirectory: '' }}
            onChange={(e) => pick(e.target.files)}
          />
        </label>
      </div>
    </div>
  );
}
