// Tests of the size budget script: it measures the guest entry (JS and CSS, gzipped) apart from
// the lazy host chunk and fails only when the entry is over budget; and, when a build is present,
// that the build's guest entry is within budget.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { BUDGET_BYTES, measure } from '../check-size.mjs';

const script = join(__dirname, '..', 'check-size.mjs');
const staticDir = join(__dirname, '..', '..', '..', 'static');

/** A build with an entry (importing a shared chunk), a lazy chunk and the page's CSS. */
function fixture(lazyBytes = 200): string {
  const dir = mkdtempSync(join(tmpdir(), 'size-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'entry.js'), 'import{a}from"./shared.js";const h=()=>import("./Host.js");' + 'console.log("hello");'.repeat(200));
  writeFileSync(join(dir, 'assets', 'shared.js'), 'export const a=1;'.repeat(50));
  writeFileSync(join(dir, 'assets', 'Host.js'), 'import{a}from"./shared.js";' + Array.from({ length: lazyBytes }, (_, i) => `v${i * 7919}`).join(';'));
  writeFileSync(join(dir, 'assets', 'b.css'), 'body{color:red}'.repeat(100));
  writeFileSync(
    join(dir, 'index.html'),
    '<html><head><script type="module" crossorigin src="/assets/entry.js"></script><link rel="stylesheet" href="/assets/b.css"><link rel="icon" href="data:image/svg+xml,x"></head>' + '<p>'.repeat(5000),
  );
  return dir;
}

function run(args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('node', [script, ...args], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: err.stdout + err.stderr };
  }
}

interface Group {
  rows: { file: string; gzip: number }[];
  total: number;
}

describe('check-size', () => {
  it('counts the guest entry (linked files and their static imports) apart from lazy chunks, never HTML', () => {
    const { guest, lazy } = measure(fixture()) as { guest: Group; lazy: Group };
    expect(guest.rows.map((r) => r.file).sort()).toEqual(['assets/b.css', 'assets/entry.js', 'assets/shared.js']);
    expect(lazy.rows.map((r) => r.file)).toEqual(['assets/Host.js']);
    expect(guest.total).toBeGreaterThan(0);
    expect(guest.total).toBeLessThan(500);
  });

  it('prints both figures and passes within budget', () => {
    const { code, out } = run([fixture(), '10000']);
    expect(code).toBe(0);
    expect(out).toMatch(/guest entry .* gzip {2}\(budget 10\.0 KB\)/);
    expect(out).toMatch(/host chunk .* gzip {2}\(no budget\)/);
  });

  it('fails when the guest entry is over budget', () => {
    const { code, out } = run([fixture(), '10']);
    expect(code).toBe(1);
    expect(out).toMatch(/guest entry over budget/);
  });

  it('does not fail for a large host chunk', () => {
    const dir = fixture(20_000);
    const { guest, lazy } = measure(dir) as { guest: Group; lazy: Group };
    expect(lazy.total).toBeGreaterThan(guest.total + 1000);
    expect(run([dir, String(guest.total)]).code).toBe(0);
  });

  it.skipIf(!existsSync(join(staticDir, 'index.html')))('keeps the current guest entry within 70 KB', () => {
    expect((measure(staticDir) as { guest: Group }).guest.total).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});
