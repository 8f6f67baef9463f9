// A full-page message for the moments between or after sessions (not found, ended, refused,
// unreachable): a symbol, a heading that says what happened, words on why, and a way forward.

import type { ReactNode } from 'react';

interface NoticeProps {
  icon: string;
  title: string;
  children?: ReactNode;
  actions?: ReactNode;
}

export function NoticeScreen({ icon, title, children, actions }: NoticeProps) {
  return (
    <main className="mx-auto flex min-h-[80dvh] max-w-md flex-col justify-center px-5 py-10">
      <div className="card text-center">
        {/* Announced when the screen appears; the actions stay outside the live region. */}
        <div role="status" aria-live="polite">
          <div aria-hidden className="text-5xl">
            {icon}
          </div>
          <h1 className="mt-4 text-3xl">{title}</h1>
        </div>
        {children && <div className="mt-3 space-y-3 text-sand">{children}</div>}
        {actions && <div className="mt-6 flex flex-col gap-3">{actions}</div>}
      </div>
    </main>
  );
}
