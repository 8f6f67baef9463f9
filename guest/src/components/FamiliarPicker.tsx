// Choosing one's familiar: a live preview and three radio groups (shape, colour, motion) with
// the names the contract defines, usable by keyboard and screen reader like any radio group.

import type { Familiar } from '../protocol/wire';
import { ACCENTS, COLORS, VARIANTS, capitalize } from '../lib/familiar';
import { FamiliarAvatar } from './FamiliarAvatar';

interface PickerProps {
  value: Familiar;
  onChange: (f: Familiar) => void;
}

export function FamiliarPicker({ value, onChange }: PickerProps) {
  return (
    <fieldset className="rounded-3xl border border-line p-4">
      <legend className="px-1 text-sm font-medium text-sand">Your familiar</legend>
      <div className="flex items-center gap-4">
        <div className="grid h-24 w-24 shrink-0 place-items-center rounded-full bg-ink">
          <FamiliarAvatar familiar={value} size={68} />
        </div>
        <div className="min-w-0 flex-1 space-y-3">
          <fieldset>
            <legend className="sr-only">Shape</legend>
            <div className="flex flex-wrap gap-1.5">
              {VARIANTS.map((v) => (
                <label key={v} className="chip">
                  <input
                    type="radio"
                    name="familiar-variant"
                    className="sr-only"
                    checked={value.variant === v}
                    onChange={() => onChange({ ...value, variant: v })}
                  />
                  {capitalize(v)}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend className="sr-only">Motion</legend>
            <div className="flex flex-wrap gap-1.5">
              {ACCENTS.map((a) => (
                <label key={a} className="chip">
                  <input
                    type="radio"
                    name="familiar-accent"
                    className="sr-only"
                    checked={value.accent === a}
                    onChange={() => onChange({ ...value, accent: a })}
                  />
                  {capitalize(a)}
                </label>
              ))}
            </div>
          </fieldset>
        </div>
      </div>
      <fieldset className="mt-4">
        <legend className="sr-only">Colour</legend>
        <div className="flex flex-wrap gap-2.5">
          {COLORS.map((c) => (
            <label
              key={c.value}
              title={c.name}
              className="grid h-11 w-11 place-items-center rounded-full border-2 border-transparent has-[:checked]:border-cream"
            >
              <input
                type="radio"
                name="familiar-color"
                className="sr-only"
                aria-label={c.name}
                checked={value.color === c.value}
                onChange={() => onChange({ ...value, color: c.value })}
              />
              <span className="h-6 w-6 rounded-full" style={{ background: c.value }} />
            </label>
          ))}
        </div>
      </fieldset>
    </fieldset>
  );
}
