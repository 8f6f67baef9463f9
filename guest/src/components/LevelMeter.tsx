// A live level meter drawn from an audio level source. It updates the DOM directly on each
// animation frame, so measuring audio never re-renders React.

import { useEffect, useRef } from 'react';
import { meterFraction } from '../lib/audio';

export function LevelMeter({ level, label = 'Audio level' }: { level: () => number; label?: string }) {
  const meter = useRef<HTMLDivElement>(null);
  const bar = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let frame = 0;
    let announced = 0;
    const tick = (t: number) => {
      const v = meterFraction(level());
      if (bar.current) bar.current.style.transform = `scaleX(${v})`;
      // The value for assistive tech changes twice a second, not sixty times.
      if (t - announced > 500 && meter.current) {
        meter.current.setAttribute('aria-valuenow', String(Math.round(v * 100)));
        announced = t;
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [level]);
  return (
    <div
      ref={meter}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={0}
      className="relative h-3 overflow-hidden rounded-full bg-dusk"
    >
      <div ref={bar} className="meter absolute inset-0" style={{ transform: 'scaleX(0)' }} />
      <div className="meter-segments absolute inset-0" />
    </div>
  );
}
