// Where the relay is: the app is always served by the relay itself (or proxied to it by the
// Vite dev server), so every address is derived from this page's own origin.

const API_PATH = '/api/v1/sessions';

/**
 * The protocol WebSocket: wss on an https page, ws otherwise. The guest page passes its `code`:
 * a relay of several machines then sends the socket to the session's machine before the upgrade.
 */
export function socketUrl(loc: Pick<Location, 'protocol' | 'host'> = location, code?: string): string {
  const url = `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${API_PATH}/ws`;
  return code ? `${url}?code=${encodeURIComponent(code)}` : url;
}

/** The public lookup of a session by its code. */
export function byCodeUrl(code: string): string {
  return `${API_PATH}/by-code/${encodeURIComponent(code)}`;
}

/** The link a host shares: opens the guest page for `code` on this relay. */
export function listenUrl(code: string, origin: string = location.origin): string {
  return `${origin}/listen/${encodeURIComponent(code)}`;
}
