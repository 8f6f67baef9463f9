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
        {/* An alert, as the screen arrives with its words in it: screen readers announce a new
            alert at once, but a new status region only when its text later changes. The actions
            stay outside it. */}
        <div role="alert">
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
