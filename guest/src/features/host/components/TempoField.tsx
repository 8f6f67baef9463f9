// The tempo the host announces (the familiars sway to it), optional.

export function TempoField({ value, onChange }: { value: number | null; onChange: (bpm: number | null) => void }) {
  return (
    <div>
      <label htmlFor="tempo" className="label">
        Tempo (BPM, optional)
      </label>
      <input
        id="tempo"
        type="number"
        inputMode="numeric"
        min={30}
        max={300}
        className="field w-32"
        value={value ?? ''}
        onChange={(e) => {
          const n = Number(e.target.value);
          onChange(e.target.value && n > 0 ? n : null);
        }}
      />
    </div>
  );
}
