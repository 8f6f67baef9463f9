// Where the host's audio comes from: the test tone or an audio file from this device.

import type { SourceKind } from '../lib/hostAudio';

export function SourcePicker({
  source,
  onSource,
  onFile,
}: {
  source: SourceKind;
  onSource: (kind: SourceKind) => void;
  onFile: (file: File) => void;
}) {
  return (
    <fieldset>
      <legend className="label">Audio source</legend>
      <div className="flex flex-wrap gap-2">
        {(['tone', 'file'] as const).map((kind) => (
          <label key={kind} className="chip">
            <input type="radio" name="audio-source" className="sr-only" checked={source === kind} onChange={() => onSource(kind)} />
            {kind === 'tone' ? 'Test tone' : 'Audio file'}
          </label>
        ))}
      </div>
      {source === 'file' && (
        <div className="mt-3">
          <label htmlFor="audio-file" className="label">
            Choose an audio file
          </label>
          <input
            id="audio-file"
            type="file"
            accept="audio/*"
            className="block w-full text-sm text-sand file:mr-3 file:rounded-full file:border-0 file:bg-dusk file:px-4 file:py-2 file:text-cream"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) onFile(file);
            }}
          />
        </div>
      )}
    </fieldset>
  );
}
