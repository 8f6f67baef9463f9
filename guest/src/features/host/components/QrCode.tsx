// The share link as a QR code (the matrix from lib/qr.ts): one SVG path over a white square with a quiet zone, so phone
// cameras read it on the dark page.

import { useMemo } from 'react';
import { encodeQr } from '../lib/qr';

/** The quiet zone (in modules) around the code; the standard asks for four. */
const QUIET = 4;

export function QrCode({ text, size = 168 }: { text: string; size?: number }) {
  const { d, n } = useMemo(() => {
    const grid = encodeQr(text);
    let path = '';
    grid.forEach((row, y) => row.forEach((dark, x) => dark && (path += `M${x} ${y}h1v1h-1z`)));
    return { d: path, n: grid.length };
  }, [text]);
  return (
    <svg
      role="img"
      aria-label="QR code for the share link"
      viewBox={`${-QUIET} ${-QUIET} ${n + QUIET * 2} ${n + QUIET * 2}`}
      width={size}
      height={size}
      shapeRendering="crispEdges"
      className="rounded-2xl bg-white"
    >
      <path d={d} fill="#15110e" />
    </svg>
  );
}
