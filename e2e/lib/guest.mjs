// The guest page (/listen/CODE) as a person uses it: by the labels and roles it shows.

import { join } from 'node:path';
import { ARTIFACTS } from './relay.mjs';

/** The page's own word for where it stands (`window.__familiar.state()`), or null before it. */
export function guestState(page) {
  return page.evaluate(() => window.__familiar?.state?.() ?? null);
}

/** Waits until `window.__familiar.state()` is one of `states`. */
export async function waitForState(page, states, timeout = 30_000) {
  const wanted = Array.isArray(states) ? states : [states];
  try {
    await page.waitForFunction((w) => w.includes(window.__familiar?.state?.()), wanted, { polling: 100, timeout });
  } catch (e) {
    const now = await guestState(page).catch(() => 'page gone');
    throw new Error(`state never became ${wanted.join('|')} (it is ${now}): ${e.message}`);
  }
}

/** The connection card's headline ("Connected", "Connecting to the host…", …). */
export function statusLine(page) {
  return page.getByRole('region', { name: 'Connection' }).getByRole('status');
}

/** Opens the share link, fills the name (and password) and presses Join. */
export async function openAndJoin(person, url, name, { password, screenshot } = {}) {
  const page = await person.open(url);
  await fillJoinForm(page, name, { password, screenshot });
  return page;
}

/**
 * Replaces a field's text by typing it, key by key, as a person would. (Playwright's `fill()`
 * sets the value in one go, which React's inputs do not see in Firefox over BiDi.)
 */
export async function typeInto(field, text) {
  await field.click();
  await field.press('ControlOrMeta+a');
  await field.press('Backspace');
  await field.pressSequentially(text);
}

export async function fillJoinForm(page, name, { password, screenshot } = {}) {
  const nameField = page.getByLabel('Your name');
  await nameField.waitFor({ state: 'visible', timeout: 20_000 });
  await typeInto(nameField, name);
  if (password !== undefined) await typeInto(page.getByLabel('Password', { exact: true }), password);
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
}

/** Waits for "Connected" in the status line and the app's state "connected". */
export async function waitConnected(page, timeout = 45_000) {
  await waitForState(page, 'connected', timeout);
  await statusLine(page).filter({ hasText: /^Connected$/ }).waitFor({ timeout: 5_000 });
}

/** The "Now playing" card's title. */
export function nowPlayingTitle(page) {
  return page.locator('section[aria-labelledby="np-heading"]').getByRole('heading', { level: 2 });
}

/** A person in the guest page's room, by name (the list item shows the name and status). */
export function roomMember(page, name) {
  return page
    .getByRole('list', { name: 'People in the room' })
    .getByRole('listitem')
    .filter({ hasText: name })
    .last();
}

export function chatLog(page) {
  return page.getByRole('log', { name: 'Chat messages' });
}

export async function sendChat(page, text) {
  await typeInto(page.getByRole('textbox', { name: 'Message' }), text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

/**
 * The whole page as one picture in artifacts/<name>.png. Rather than Chromium's full-page
 * capture (which paints `background-attachment: fixed` and other fixed layers for the first
 * viewport only, leaving seams no person ever sees), the window is made as tall as the page for
 * the shot and then restored.
 */
export async function shot(page, name) {
  await page.evaluate(() => document.fonts?.ready);
  const viewport = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const tall = viewport && height > viewport.height;
  if (tall) await page.setViewportSize({ width: viewport.width, height });
  try {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), animations: 'disabled' });
  } finally {
    if (tall) await page.setViewportSize(viewport);
  }
}
