// A participant's familiar drawn as SVG: the variant picks the body (halo orb, ember flame,
// prism gem), the colour fills it, the accent adds its own motion, and the seed gives each one a
// slightly different face so two "halo, sky" familiars still look like two beings.

import { useId } from 'react';
import type { Familiar } from '../protocol/wire';

const BODIES = {
  halo: <circle cx={32} cy={35} r={17} />,
  ember: <path d="M32 9c5 9 17 15 17 29a17 17 0 0 1-34 0c0-9 6-14 9-21 2 5 4 7 6 7 1-5 1-10 2-15z" />,
  prism: <path d="M32 12 50 25v19L32 56 14 44V25z" />,
};

export function FamiliarAvatar({ familiar, size = 56 }: { familiar: Familiar; size?: number }) {
  // useId gives ":r1:"; colons would need escaping inside url(#...).
  const id = useId().replace(/:/g, '');
  const { variant, color, accent, seed } = familiar;
  const gap = 5 + (seed % 4);
  const eyeY = 33 + (seed % 3);
  const tilt = (seed % 11) - 5;
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 64 64"
      aria-hidden
      style={{ overflow: 'visible', filter: `drop-shadow(0 0 10px ${color}66)` }}
    >
      <defs>
        <radialGradient id={id} cx="35%" cy="30%" r="75%">
          <stop offset="0" stopColor="#fff" stopOpacity=".85" />
          <stop offset=".35" stopColor={color} />
          <stop offset="1" stopColor={color} stopOpacity=".75" />
        </radialGradient>
      </defs>
      {accent === 'ripple' && (
        <circle className="fam-ripple" cx={32} cy={34} r={24} fill="none" stroke={color} strokeWidth={1.5} />
      )}
      <g className={accent === 'drift' ? 'fam-drift' : undefined}>
        {variant === 'halo' && (
          <ellipse cx={32} cy={12} rx={11} ry={3.5} fill="none" stroke={color} strokeWidth={2.5} opacity=".9" />
        )}
        <g fill={`url(#${id})`}>{BODIES[variant] ?? BODIES.halo}</g>
        <g transform={`rotate(${tilt} 32 ${eyeY})`} fill="#15110e">
          <ellipse cx={32 - gap} cy={eyeY} rx={2.2} ry={3} />
          <ellipse cx={32 + gap} cy={eyeY} rx={2.2} ry={3} />
        </g>
      </g>
      {accent === 'orbit' && (
        <g className="fam-orbit">
          <circle cx={32} cy={4} r={3} fill={color} />
        </g>
      )}
    </svg>
  );
}
