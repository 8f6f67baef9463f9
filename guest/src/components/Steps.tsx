// Progress as the three steps a listener understands, instead of one anonymous spinner.
// aria-current marks the step under way for assistive tech.

export const STEPS = ['Finding the session', 'Connecting to the host', 'Starting the audio'] as const;

/** `current` is the index of the step under way; STEPS.length means all done. */
export function Steps({ current }: { current: number }) {
  return (
    <ol aria-label="Progress" className="space-y-3">
      {STEPS.map((label, i) => {
        const done = i < current;
        const now = i === current;
        return (
          <li key={label} aria-current={now ? 'step' : undefined} className={`flex items-center gap-3 ${done || now ? 'text-cream' : 'text-sand'}`}>
            <span
              aria-hidden
              className={`grid h-7 w-7 shrink-0 place-items-center rounded-full border text-sm ${
                done ? 'border-moss bg-moss text-ink' : now ? 'border-ember' : 'border-line'
              }`}
            >
              {done ? '✓' : now ? <span className="breathe h-2.5 w-2.5 rounded-full bg-ember" /> : i + 1}
            </span>
            {label}
          </li>
        );
      })}
    </ol>
  );
}
