// The app's layering, checked on every test run: the shared layer (protocol, config, lib, room,
// hooks, components) never imports a feature or the app shell, each shared folder imports only
// the ones below it, a feature never imports another feature, and inside a feature lib/ sits
// under hooks/, which sits under components/, which sits under the page. Imports are read from
// the source text (static, re-exports and dynamic import()), type-only ones included.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Shared folders from the bottom up: each may import its own rank and those below. */
const SHARED_RANK: Record<string, number> = { protocol: 0, config: 1, lib: 1, room: 2, hooks: 3, components: 4 };
const FEATURES_RANK = 5;
const APP_RANK = 6;
/** Inside a feature, from the bottom up; the page files at the feature's root are on top. */
const FEATURE_PART_RANK: Record<string, number> = { lib: 0, hooks: 1, components: 2 };
const PAGE_RANK = 3;

interface Place {
  rank: number;
  feature?: string;
  /** Rank inside the feature, for files under features/. */
  part?: number;
}

/** Where a module (a path relative to src, POSIX separators) sits in the layering. */
function placeOf(path: string): Place | null {
  const [top, second, third] = path.split('/');
  if (top === undefined) return null;
  if (top === 'main.tsx') return { rank: APP_RANK + 1 };
  if (top === 'app') return { rank: APP_RANK };
  if (top === 'features' && second) {
    const inFolder = third !== undefined && path.split('/').length > 3;
    return { rank: FEATURES_RANK, feature: second, part: inFolder ? (FEATURE_PART_RANK[third] ?? PAGE_RANK) : PAGE_RANK };
  }
  const rank = SHARED_RANK[top];
  return rank === undefined ? null : { rank };
}

/** Why `from` may not import `to` (both relative to src), or null when it may. */
function violation(from: string, to: string): string | null {
  const a = placeOf(from);
  const b = placeOf(to);
  if (!a || !b) return `${from} → ${to}: outside the known layers`;
  if (a.feature !== undefined && b.feature !== undefined) {
    if (a.feature !== b.feature) return `${from} → ${to}: a feature imports another feature`;
    if ((b.part ?? 0) > (a.part ?? 0)) return `${from} → ${to}: imports a higher part of its feature`;
    return null;
  }
  if (b.rank > a.rank) return `${from} → ${to}: the ${from.split('/')[0]} layer imports from ${to.split('/')[0]}`;
  return null;
}

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '__tests__') yield* sources(path);
    } else if (/\.tsx?$/.test(entry.name) && !/\.d\.ts$/.test(entry.name)) {
      yield path;
    }
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** The relative imports of the source `text` of `file` (relative to src), resolved against src. */
function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) found.push(posix.normalize(posix.join(posix.dirname(file), spec)));
  }
  return found;
}

describe('layering', () => {
  it('places each folder where the app means it', () => {
    expect(violation('components/Room.tsx', 'room/state')).toBeNull();
    expect(violation('features/listen/ListenPage.tsx', 'components/Room')).toBeNull();
    expect(violation('features/listen/components/NowPlaying.tsx', 'features/listen/hooks/useRemoteAudio')).toBeNull();
    expect(violation('app/App.tsx', 'features/host/HostPage')).toBeNull();
    // The imports this check was written to keep out.
    expect(violation('components/Room.tsx', 'features/session/state')).toMatch(/components layer imports from features/);
    expect(violation('components/Brand.tsx', 'app/router')).toMatch(/components layer imports from app/);
    expect(violation('lib/router.ts', 'hooks/useNow')).toMatch(/lib layer imports from hooks/);
    expect(violation('protocol/client.ts', 'lib/webrtc')).toMatch(/protocol layer imports from lib/);
    expect(violation('features/host/HostPage.tsx', 'features/listen/lib/guestPeer')).toMatch(/another feature/);
    expect(violation('features/listen/lib/guestState.ts', 'features/listen/hooks/useRemoteAudio')).toMatch(/higher part/);
    expect(violation('features/listen/hooks/x.ts', 'features/listen/components/y')).toMatch(/higher part/);
  });

  it('reads static, type-only, re-exported and dynamic imports', () => {
    const text = [
      "import { a } from '../lib/a';",
      "import type { B } from './b';",
      "export { c } from '../room/c';",
      "const D = lazy(() => import('../features/d/D'));",
      "import './e.css';",
      "import { useState } from 'react';",
    ].join('\n');
    expect(importsOf('components/X.tsx', text)).toEqual(['lib/a', 'components/b', 'room/c', 'features/d/D', 'components/e.css']);
  });

  it('holds for every source file', () => {
    const problems: string[] = [];
    let files = 0;
    for (const path of sources(SRC)) {
      files += 1;
      const file = relative(SRC, path).split('\\').join('/');
      for (const target of importsOf(file, readFileSync(path, 'utf8'))) {
        // Stylesheets are assets, not modules in the layering.
        if (target.endsWith('.css')) continue;
        const why = violation(file, target);
        if (why) problems.push(why);
      }
    }
    expect(files).toBeGreaterThan(30);
    expect(problems).toEqual([]);
  });
});
