// The window.__familiar hooks the browser tests read: current audio level and connection state.
// Installed by the page that owns them and removed on unmount; no UI depends on them.

export interface FamiliarTestHooks {
  /** RMS level (0..1) of the received (guest) or sent (host) audio right now. */
  audioLevel(): number;
  /** The page's state as one word, e.g. "connected" (see the pages for the full list). */
  state(): string;
  /** Host page only: the session code once created. */
  code?(): string | null;
}

declare global {
  interface Window {
    __familiar?: FamiliarTestHooks;
  }
}

export function installTestHooks(hooks: FamiliarTestHooks): () => void {
  window.__familiar = hooks;
  return () => {
    if (window.__familiar === hooks) delete window.__familiar;
  };
}
