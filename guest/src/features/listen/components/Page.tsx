// The guest page's frame: the brand (and an action such as Leave) on top, the content below.

import type { ReactNode } from 'react';
import { Brand } from '../../../components/Brand';

export function Page({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="mx-auto max-w-xl space-y-4 px-4 pt-4 pb-16">
      <header className="flex min-h-11 items-center justify-between">
        <Brand />
        {action}
      </header>
      <main className="space-y-4">{children}</main>
    </div>
  );
}
