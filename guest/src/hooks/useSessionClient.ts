// The React side of the protocol client: one SessionClient per page, connected in useEffect and
// disconnected in its cleanup, its status as state, and a message subscription that always calls
// the latest handler (so handlers can read fresh props without resubscribing). For a guest,
// closing or leaving the tab leaves the session at once, as the Familiar app does, rather than
// leaving the others waiting out the relay's grace period for a dropped connection. The host page
// stays (`leaveOnPageHide: false`): a reload must not end everyone's session, so it resumes.
// The guest page names its session's code, which goes into the socket's URL (see `socketUrl`).

import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import { SessionClient, type ClientStatus } from '../protocol/client';
import type { ServerMessage } from '../protocol/wire';
import { socketUrl } from '../config/relay';

export function useSessionClient(
  tokenKey: string,
  { leaveOnPageHide = true, code }: { leaveOnPageHide?: boolean; code?: string } = {},
): SessionClient {
  const [client] = useState(() => new SessionClient({ url: socketUrl(location, code), tokenKey }));
  useEffect(() => {
    client.connect();
    const leave = () => client.leave();
    if (leaveOnPageHide) addEventListener('pagehide', leave);
    return () => {
      removeEventListener('pagehide', leave);
      client.disconnect();
    };
  }, [client, leaveOnPageHide]);
  return client;
}

export function useClientStatus(client: SessionClient): ClientStatus {
  return useSyncExternalStore(client.subscribe, client.getStatus);
}

export function useServerMessages(client: SessionClient, handler: (msg: ServerMessage) => void): void {
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => client.onMessage((msg) => latest.current(msg)), [client]);
}
