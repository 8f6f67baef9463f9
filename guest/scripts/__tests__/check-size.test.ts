// Tests of the size budget script: it measures JS and CSS only, gzipped, and fails over budget;
// and, when a build is present, that the build is within budget.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { BUDGET_BYTES, measure } from '../check-size.mjs';

const script = join(__dirname, '..', 'check-size.mjs');
const staticDir = join(__dirname, '..', '..', '..', 'static');

function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'size-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'a.js'), 'console.log("hello");'.repeat(200));
  writeFileSync(join(dir, 'assets', 'b.css'), 'body{color:red}'.repeat(100));
  writeFileSync(join(dir, 'index.html'), '<html>'.repeat(5000));
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

describe('check-size', () => {
  it('counts gzipped JS and CSS, not HTML', () => {
    const { rows, total } = measure(fixture()) as { rows: { file: string; gzip: number }[]; total: number };
    expect(rows.map((r) => r.file).sort()).toEqual([join('assets', 'a.js'), join('assets', 'b.css')]);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(500);
  });

  it('prints the figure and passes within budget', () => {
    const { code, out } = run([fixture(), '10000']);
    expect(code).toBe(0);
    expect(out).toMatch(/total .* gzip/);
  });

  it('fails over budget', () => {
    const { code, out } = run([fixture(), '10']);
    expect(code).toBe(1);
    expect(out).toMatch(/over budget/);
  });

  it.skipIf(!existsSync(join(staticDir, 'index.html')))('keeps the current build within 70 KB', () => {
    expect((measure(staticDir) as { total: number }).total).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});
