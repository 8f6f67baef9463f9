#!/usr/bin/env node
// The size budget: every JS and CSS file the build emitted (../static by default), gzipped the
// way a server would send it, printed per file and in total; exits 1 over the budget.
// Usage: node scripts/check-size.mjs [dir] [budgetBytes]

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** 70 KB, counted in thousands of bytes (the stricter reading of "KB"). */
export const BUDGET_BYTES = 70_000;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(m?js|css)$/.test(name)) yield path;
  }
}

/** Measures `dir`: [{file, raw, gzip}] sorted largest first, and the gzipped total. */
export function measure(dir) {
  const rows = [...files(dir)].map((path) => {
    const data = readFileSync(path);
    // Level 9 is what static pre-compression uses; the relay's on-the-fly gzip is within ~2%.
    return { file: relative(dir, path), raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
  });
  rows.sort((a, b) => b.gzip - a.gzip);
  return { rows, total: rows.reduce((sum, r) => sum + r.gzip, 0) };
}

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

export function report({ rows, total }, budget = BUDGET_BYTES) {
  const width = Math.max(4, ...rows.map((r) => r.file.length));
  const lines = rows.map((r) => `${r.file.padEnd(width)}  ${kb(r.raw).padStart(9)} raw  ${kb(r.gzip).padStart(8)} gzip`);
  lines.push(`${'total'.padEnd(width)}  ${''.padStart(13)}  ${kb(total).padStart(8)} gzip  (budget ${kb(budget)})`);
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dir = resolve(process.argv[2] ?? join(here, '..', '..', 'static'));
  const budget = Number(process.argv[3] ?? BUDGET_BYTES);
  let result;
  try {
    result = measure(dir);
  } catch (e) {
    console.error(`check-size: cannot read ${dir} (${e.message}); run \`npm run build\` first`);
    process.exit(2);
  }
  if (result.rows.length === 0) {
    console.error(`check-size: no JS or CSS in ${dir}; run \`npm run build\` first`);
    process.exit(2);
  }
  console.log(report(result, budget));
  if (result.total > budget) {
    console.error(`check-size: over budget by ${kb(result.total - budget)}`);
    process.exit(1);
  }
  console.log(`check-size: within budget (${kb(budget - result.total)} to spare)`);
}
