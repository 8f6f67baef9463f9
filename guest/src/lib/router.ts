// A tiny path router for the three pages (`/`, `/listen/:code`, `/host`): history.pushState for
// navigation and useSyncExternalStore to re-render on it. Small on purpose: the budget has no
// room for a router library and the app has no nested routes.

import { useSyncExternalStore, type MouseEvent } from 'react';

export type Route =
  | { page: 'splash' }
  | { page: 'listen'; code: string }
  | { page: 'host' }
  | { page: 'not_found' };

const NAVIGATE = 'familiar:navigate';

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { page: 'splash' };
  if (path === '/host') return { page: 'host' };
  const listen = /^\/listen\/([^/]+)$/.exec(path);
  if (listen?.[1]) {
    let code = listen[1];
    try {
      code = decodeURIComponent(code);
    } catch {
      // A malformed escape is just an unknown code; the page says so.
    }
    return { page: 'listen', code };
  }
  return { page: 'not_found' };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE, onChange);
  };
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

export function navigate(path: string, replace = false): void {
  if (path === location.pathname) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', path);
  window.dispatchEvent(new Event(NAVIGATE));
  window.scrollTo(0, 0);
}

/** onClick for an <a href>: navigates in-app for a plain left click, leaves the rest to the browser. */
export function linkClick(e: MouseEvent<HTMLAnchorElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(e.currentTarget.pathname);
}
