// The app shell: picks the page for the current path. The host page is loaded on demand so a
// guest opening a link never downloads it.

import { Suspense, lazy } from 'react';
import { Brand } from '../components/Brand';
import ListenPage from '../features/listen/ListenPage';
import SplashPage from '../features/splash/SplashPage';
import { normalizeCode } from '../lib/code';
import { matchRoute, usePathname } from '../lib/router';

const HostPage = lazy(() => import('../features/host/HostPage'));

export function App() {
  const route = matchRoute(usePathname());
  switch (route.page) {
    case 'splash':
      return <SplashPage />;
    case 'listen':
      // Keyed by code: another code is another session, with fresh state and socket.
      return <ListenPage key={normalizeCode(route.code)} code={route.code} />;
    case 'host':
      return (
        <Suspense
          fallback={
            <div className="mx-auto max-w-xl px-4 pt-4">
              <Brand />
              <p role="status" className="mt-10 text-sand">
                Opening the host page…
              </p>
            </div>
          }
        >
          <HostPage />
        </Suspense>
      );
    default:
      // The relay serves the app only at /, /listen/CODE and /host; anything else is the door.
      return <SplashPage />;
  }
}
