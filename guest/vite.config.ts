// Build and dev-server configuration: builds the SPA into ../static for the relay to serve,
// proxies the relay's API (HTTP and WebSocket) in development, and configures the unit tests.
// Tailwind runs through postcss.config.js.
/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Vite wraps every dynamic import in a preload helper (about 0.6 KB gzipped) that fetches the
 * chunk's dependencies in parallel. Our one lazy chunk, the host page, has none to fetch, so the
 * wrapper is unwrapped back to a plain import() and the unused helper is dropped by the minifier.
 * If a future Vite changes the wrapper's shape this simply stops matching: the build still works.
 */
function unwrapPreload(): Plugin {
  return {
    name: 'familiar:unwrap-preload',
    apply: 'build',
    renderChunk(code) {
      const next = code.replace(
        /__vitePreload\(\s*\(\)\s*=>\s*(import\([^()]*\))\s*,\s*__VITE_PRELOAD__\s*(?:,\s*import\.meta\.url\s*)?\)/g,
        '$1',
      );
      return next === code ? null : { code: next, map: null };
    },
  };
}

// The relay's address during `npm run dev`; `cargo run` listens here by default.
const RELAY = process.env.RELAY_URL ?? 'http://localhost:8000';

export default defineConfig({
  plugins: [react(), unwrapPreload()],
  base: '/',
  build: {
    // The relay serves static/ (index.html for the app routes, hashed files under /assets/).
    outDir: '../static',
    // static/ is pure build output; public/.gitkeep is copied back so git keeps the folder.
    emptyOutDir: true,
    assetsDir: 'assets',
    // No <link rel=modulepreload> tags or polyfill: the entry is a single chunk and the lazy
    // host chunk depends only on it.
    modulePreload: false,
    // Inline nothing as base64: the favicon is already inline and the budget counts JS + CSS.
    assetsInlineLimit: 0,
    rolldownOptions: {
      // Rolldown warns when plugins take much of the build (Tailwind's PostCSS pass does, more so
      // on a busy machine); that is a timing note, not a problem with the output.
      checks: { bundlerTimings: false },
    },
  },
  server: {
    proxy: {
      '/api': { target: RELAY, ws: true, changeOrigin: true },
      '/health': { target: RELAY, changeOrigin: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/__tests__/**/*.test.{ts,tsx}', 'scripts/__tests__/**/*.test.ts'],
  },
});
