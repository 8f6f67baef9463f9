// Checks a page as people who are not on a laptop with a mouse meet it: an axe-core audit (the
// library injected into the real page), no sideways scrolling, tap targets a finger can hit,
// visible keyboard focus, and a record of what the page's live regions said (what a screen
// reader announces), kept by an init script from the first paint.

import { createRequire } from 'node:module';
import { shot } from './guest.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The phone sizes the guest page is proved at (CSS pixels, portrait). */
export const PHONES = [
  { width: 360, height: 740 },
  { width: 390, height: 844 },
];

/** A phone's browser: small viewport, touch, the mobile viewport meta honoured. */
export const PHONE_CONTEXT = { isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** Apple's and Google's guidance for a finger: 44 CSS px each way (Android says 48 dp). */
export const MIN_TAP = 44;

/**
 * Runs axe-core (WCAG 2.0/2.1/2.2 A and AA rules plus best practices) on the page as it is and
 * returns the violations of impact serious or critical, each as one readable line.
 */
export async function seriousViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  });
  return violations;
}

/** How far the page scrolls sideways (0 when it fits the viewport's width). */
export function horizontalOverflow(page) {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
}

/**
 * Every visible control a person taps (buttons, links, fields, the labels of visually hidden
 * radio buttons) that is smaller than MIN_TAP either way, as "name WxH".
 */
export function smallTapTargets(page) {
  return page.evaluate((min) => {
    const controls = document.querySelectorAll(
      'button, a[href], input:not([type=hidden]):not(.sr-only), select, textarea, label:has(> input.sr-only)',
    );
    const small = [];
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || el.closest('[aria-hidden=true], .hidden')) continue;
      if (r.width < min - 0.5 || r.height < min - 0.5) {
        const name = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.tagName.toLowerCase();
        small.push(`${name} ${Math.round(r.width)}x${Math.round(r.height)}`);
      }
    }
    return small;
  }, MIN_TAP);
}

/**
 * Installed before the page's scripts: every time the text of a live region (aria-live, or the
 * roles status, alert and log) changes, the new text is kept in `window.__e2eAnnounced`. A
 * region that appears with its text already in it counts only when it is an alert: screen
 * readers announce changes to regions they already know, and alerts on arrival.
 */
export function recordAnnouncements() {
  const said = (window.__e2eAnnounced = []);
  const known = new WeakMap();
  const isLive = (el) =>
    el.nodeType === 1 && (el.hasAttribute('aria-live') || ['status', 'alert', 'log'].includes(el.getAttribute('role')));
  const scan = () => {
    for (const el of document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')) {
      if (!isLive(el) || el.getAttribute('aria-live') === 'off') continue;
      const text = el.textContent.replace(/\s+/g, ' ').trim();
      const before = known.get(el);
      known.set(el, text);
      if (before === undefined ? text && el.getAttribute('role') === 'alert' : text && text !== before) said.push(text);
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, characterData: true });
}

/** What the page's live regions have said so far. */
export function announcements(page) {
  return page.evaluate(() => window.__e2eAnnounced ?? []);
}

/** The focused element: its name, and whether a focus ring (outline or box shadow) shows. */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el.matches('input.sr-only') ? el.closest('label') ?? el : el);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none';
    const label = el.labels?.[0]?.textContent.trim() ?? '';
    const name = el.getAttribute('aria-label') || label || el.textContent.trim().slice(0, 40) || el.tagName.toLowerCase();
    return { name, tag: el.tagName.toLowerCase(), ring };
  });
}

/**
 * Presses Tab (or Shift+Tab) until the focused element's name matches `name`, at most `limit`
 * times; returns the names passed on the way. Throws when it never gets there, or when a
 * stop on the way shows no focus ring.
 */
export async function tabTo(page, name, { back = false, limit = 30 } = {}) {
  const passed = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const now = await focused(page);
    if (!now) continue;
    if (!now.ring) throw new Error(`focus on "${now.name}" (${now.tag}) shows no focus ring`);
    passed.push(now.name);
    if (typeof name === 'string' ? now.name === name : name.test(now.name)) return passed;
  }
  throw new Error(`Tab never reached "${name}" in ${limit} presses; it passed ${JSON.stringify(passed)}`);
}

/** The audit, overflow and tap-target checks for one state, with a screenshot per size. */
export async function checkState(page, state, sizes, { tapTargets = true, prefix = 'phone' } = {}) {
  const problems = [];
  for (const size of sizes) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const tag = `${state} at ${size.width}x${size.height}`;
    const overflow = await horizontalOverflow(page);
    if (overflow > 0) problems.push(`${tag}: scrolls sideways by ${overflow} px`);
    if (tapTargets) {
      const small = await smallTapTargets(page);
      if (small.length) problems.push(`${tag}: tap targets under ${MIN_TAP} px: ${small.join('; ')}`);
    }
    for (const v of await seriousViolations(page)) problems.push(`${tag}: axe ${v}`);
    await shot(page, `${prefix}-${state}-${size.width}x${size.height}`);
  }
  return problems;
}
