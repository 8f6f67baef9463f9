// The front door, /: what this is in one sentence, "enter a code", and the way to host.

import { linkClick } from '../../lib/router';
import { Brand } from '../../components/Brand';
import { CodeForm } from '../../components/CodeForm';
import { FamiliarAvatar } from '../../components/FamiliarAvatar';

export default function SplashPage() {
  return (
    <div className="mx-auto flex min-h-dvh max-w-xl flex-col px-5 pt-4 pb-10">
      <header className="flex min-h-11 items-center">
        <Brand />
      </header>
      <main className="flex flex-1 flex-col justify-center gap-8 py-10">
        <div className="flex items-end gap-2" aria-hidden>
          <FamiliarAvatar familiar={{ variant: 'halo', color: '#f5b454', accent: 'drift', seed: 3 }} size={64} />
          <FamiliarAvatar familiar={{ variant: 'ember', color: '#ff8f6b', accent: 'ripple', seed: 8 }} size={48} />
          <FamiliarAvatar familiar={{ variant: 'prism', color: '#a78bfa', accent: 'orbit', seed: 5 }} size={48} />
        </div>
        <div>
          <h1 className="text-5xl leading-[1.05]">Listen along, live.</h1>
          <p className="mt-4 text-lg text-sand">
            A friend is playing music from their Familiar player. Enter their session code to hear it with them, right here in
            your browser.
          </p>
        </div>
        <CodeForm autoFocus />
        <p className="text-sand">
          Want to share your own music?{' '}
          <a href="/host" onClick={linkClick} className="font-semibold text-ember underline underline-offset-4">
            Host a session
          </a>
        </p>
      </main>
    </div>
  );
}
