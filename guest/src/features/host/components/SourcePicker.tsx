// Where the host's audio comes from: the test tone, your music (a queue of files from this
// device), a browser tab's or the screen's audio, or a microphone / line-in, the last two only
// where the browser offers them. Picking one is the tap that may start it.

import { canCaptureTab, canUseInput } from '../hooks/useHostSession';
import type { SourceKind } from '../lib/hostAudio';

const LABELS: Record<SourceKind, string> = {
  tone: 'Test tone',
  queue: 'Your music',
  tab: 'Tab or screen audio',
  mic: 'Microphone or line-in',
};

export function SourcePicker({ source, onSource }: { source: SourceKind; onSource: (kind: SourceKind) => void }) {
  const kinds: SourceKind[] = ['tone', 'queue'];
  if (canCaptureTab()) kinds.push('tab');
  if (canUseInput()) kinds.push('mic');
  return (
    <fieldset>
      <legend className="label">Audio source</legend>
      <div className="flex flex-wrap gap-2">
        {kinds.map((kind) => (
          <label key={kind} className="chip">
            <input type="radio" name="audio-source" className="sr-only" checked={source === kind} onChange={() => onSource(kind)} />
            {LABELS[kind]}
          </label>
        ))}
      </div>
      {source === 'tab' && (
        <p className="mt-2 text-sm text-sand">Your browser asks which tab or screen to share; turn on sharing its audio.</p>
      )}
      {source === 'mic' && (
        <p className="mt-2 text-sm text-sand">Sent as it is: no echo cancelling, noise suppression or automatic gain, so music keeps its sound.</p>
      )}
    </fieldset>
  );
}
