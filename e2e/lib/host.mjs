// The host page (/host) as a person uses it, and the scripted Familiar host (fixtures/).

import { typeInto } from './guest.mjs';

/**
 * Opens /host, fills the setup form, keeps the test tone as the source and starts the session.
 * Returns the page, the session code and the share link the page shows.
 */
export async function startHostPage(person, relay, { name, username = 'Hostess', password } = {}) {
  const page = await person.open(`${relay.origin}/host`);
  await typeInto(page.getByLabel('Session name'), name);
  await typeInto(page.getByLabel('Your name'), username);
  if (password) await typeInto(page.getByLabel(/^Password/), password);
  const tone = page.getByRole('radio', { name: 'Test tone' });
  if (!(await tone.isChecked())) await tone.check({ force: true });
  await page.getByRole('button', { name: 'Start session' }).click();
  await page.getByRole('status').filter({ hasText: /^Live/ }).waitFor({ timeout: 20_000 });
  const code = await page.evaluate(() => window.__familiar?.code?.() ?? null);
  const link = await page.getByRole('region', { name: 'Invite friends' }).getByRole('link').getAttribute('href');
  if (!code || !link) throw new Error(`host page shows no code (${code}) or share link (${link})`);
  return { page, code, link };
}

/** The kick button next to a listener in the host's list proves the host sees that listener. */
export function kickButton(page, name) {
  return page.getByRole('button', { name: `Kick ${name}`, exact: true });
}

/** The host's line for a listener: name, connection path and the kick button. */
export function hostListEntry(page, name) {
  // "Listeners" is the host's manage list only; the room's list is "People in the room".
  return page
    .getByRole('list', { name: 'Listeners', exact: true })
    .getByRole('listitem')
    .filter({ has: kickButton(page, name) });
}

/**
 * Loads the scripted Familiar host from the fixture server and creates a session streaming a
 * tone, with `track` as the metadata it sends once a second. Returns the page and the code.
 */
export async function startScriptedHost(person, fixtures, relay, { track, password } = {}) {
  const page = await person.open(`${fixtures.origin}/familiar-host.html`);
  const code = await page.evaluate(
    ({ wsUrl, track, password }) => window.familiarHost.start({ wsUrl, track, password }),
    { wsUrl: relay.wsUrl, track, password: password ?? null },
  );
  return { page, code };
}
