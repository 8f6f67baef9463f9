#!/usr/bin/env node
// The size budget: what the guest page (/listen/CODE) loads — the JS and CSS index.html links and
// everything those import statically — gzipped the way a server would send it, against the
// budget; and, printed beside it, every other JS and CSS file the build emitted (the lazily
// loaded host page), which has no budget. Exits 1 only when the guest entry is over.
// Usage: node scripts/check-size.mjs [dir] [budgetBytes]

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
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

/** The files index.html loads at once: module scripts and stylesheets, as paths under `dir`. */
function htmlEntries(dir) {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const refs = [];
  for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    const isScript = /^<script/i.test(tag);
    if (!isScript && !/\brel=["']?stylesheet/i.test(tag)) continue;
    const url = tag.match(/\b(?:src|href)=["']?([^"'\s>]+)/i)?.[1];
    if (url && !/^(data:|[a-z]+:\/\/)/i.test(url)) refs.push(url.replace(/^\//, ''));
  }
  return refs;
}

/**
 * Static imports of a JS chunk (`import … from "./x.js"`, `import "./x.js"`, `export … from`),
 * never `import("./x.js")`: a dynamic import is what makes a chunk lazy.
 */
function staticImports(code) {
  const found = [];
  const re = /(?:\bimport|\bexport)\s*(?:[\w*${}\s,]+?\bfrom\s*)?["']([^"']+\.m?js)["']/g;
  for (const m of code.matchAll(re)) found.push(m[1]);
  return found;
}

/** `relative(dir, file)` with forward slashes, whatever the platform. */
const rel = (dir, path) => relative(dir, path).split(/[\\/]/).join('/');

/** The guest entry: index.html's files and, transitively, what they import statically. */
export function guestFiles(dir) {
  const seen = new Set();
  const queue = htmlEntries(dir);
  while (queue.length) {
    const file = posix.normalize(queue.shift());
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.m?js$/.test(file)) continue;
    const code = readFileSync(join(dir, file), 'utf8');
    for (const spec of staticImports(code)) {
      if (spec.startsWith('.')) queue.push(posix.join(posix.dirname(file), spec));
      else if (spec.startsWith('/')) queue.push(spec.slice(1));
    }
  }
  return seen;
}

function row(dir, path) {
  const data = readFileSync(path);
  // Level 9 is what static pre-compression uses; the relay's on-the-fly gzip is within ~2%.
  return { file: rel(dir, path), raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
}

function group(rows) {
  rows.sort((a, b) => b.gzip - a.gzip);
  return { rows, total: rows.reduce((sum, r) => sum + r.gzip, 0) };
}

/** Measures `dir`: the guest entry and the rest (lazy chunks), each {rows, total} in gzip bytes. */
export function measure(dir) {
  const entry = guestFiles(dir);
  const all = [...files(dir)].map((path) => row(dir, path));
  const missing = [...entry].filter((f) => !all.some((r) => r.file === f));
  if (missing.length) throw new Error(`index.html links files the build lacks: ${missing.join(', ')}`);
  return {
    guest: group(all.filter((r) => entry.has(r.file))),
    lazy: group(all.filter((r) => !entry.has(r.file))),
  };
}

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

export function report({ guest, lazy }, budget = BUDGET_BYTES) {
  const width = Math.max(4, ...[...guest.rows, ...lazy.rows].map((r) => r.file.length + 2));
  const line = (r) => `  ${r.file.padEnd(width - 2)}  ${kb(r.raw).padStart(9)} raw  ${kb(r.gzip).padStart(8)} gzip`;
  const total = (label, n, note) => `${label.padEnd(width)}  ${''.padStart(13)}  ${kb(n).padStart(8)} gzip  ${note}`;
  return [
    'guest entry (what /listen/CODE loads):',
    ...guest.rows.map(line),
    total('guest entry', guest.total, `(budget ${kb(budget)})`),
    'host chunk (loaded by /host only):',
    ...lazy.rows.map(line),
    total('host chunk', lazy.total, '(no budget)'),
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = resolve(process.argv[2] ?? join(here, '..', '..', 'static'));
  const budget = Number(process.argv[3] ?? BUDGET_BYTES);
  let result;
  try {
    result = measure(dir);
  } catch (e) {
    console.error(`check-size: cannot measure ${dir} (${e.message}); run \`npm run build\` first`);
    process.exit(2);
  }
  if (result.guest.rows.length === 0) {
    console.error(`check-size: index.html in ${dir} links no JS or CSS; run \`npm run build\` first`);
    process.exit(2);
  }
  console.log(report(result, budget));
  if (result.guest.total > budget) {
    console.error(`check-size: guest entry over budget by ${kb(result.guest.total - budget)}`);
    process.exit(1);
  }
  console.log(`check-size: guest entry within budget (${kb(budget - result.guest.total)} to spare)`);
}
