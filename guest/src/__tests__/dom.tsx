// Rendering for the component and hook tests, with react-dom itself in a happy-dom document (a
// test file opts in with `// @vitest-environment happy-dom`): render, a hook probe, events, and
// a stand-in WebSocket that a test drives the way the relay would.

import { act, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import type { ServerMessage } from '../protocol/wire';
import { FakeSocket as RelaySocket } from './relayFakes';

declare global {
  // Tells React that updates are wrapped in act(), so it flushes them before act() returns.
  var IS_REACT_ACT_ENVIRONMENT: boolean;
}
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

const mounted: (() => void)[] = [];

export interface Rendered {
  container: HTMLElement;
  rerender(ui: ReactNode): void;
  unmount(): void;
}

export function render(ui: ReactNode): Rendered {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  act(() => root.render(ui));
  let gone = false;
  const unmount = () => {
    if (gone) return;
    gone = true;
    act(() => root.unmount());
    container.remove();
  };
  mounted.push(unmount);
  return { container, rerender: (next) => act(() => root.render(next)), unmount };
}

/** Unmounts everything rendered so far (call in afterEach). */
export function cleanup(): void {
  for (const unmount of mounted.splice(0)) unmount();
}

/** Runs `hook` inside a component; `result.current` is what it returned on the latest render. */
export function renderHook<T>(hook: () => T): { result: { current: T }; unmount(): void } {
  const result = { current: undefined as T };
  function Probe() {
    result.current = hook();
    return null;
  }
  const { unmount } = render(<Probe />);
  return { result, unmount };
}

/** The element whose text content is exactly `text` (trimmed), of the given tag if one is named. */
export function byText(root: ParentNode, text: string, selector = '*'): HTMLElement {
  const found = [...root.querySelectorAll<HTMLElement>(selector)].filter((el) => el.textContent?.trim() === text);
  const el = found.at(-1);
  if (!el) throw new Error(`no ${selector} with the text "${text}"`);
  return el;
}

export function click(el: Element): void {
  act(() => {
    el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 }));
  });
}

/** Types into a controlled input the way React listens for it. */
export function type(input: HTMLInputElement, value: string): void {
  act(() => {
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
    setter?.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export function submit(form: HTMLFormElement): void {
  act(() => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

/**
 * The relay's end of a WebSocket, its events inside act() so React settles before the test
 * looks: install with `vi.stubGlobal('WebSocket', FakeSocket)`.
 */
export class FakeSocket extends RelaySocket {
  static override all: FakeSocket[] = [];
  static override get last(): FakeSocket {
    return super.last as FakeSocket;
  }

  override accept(): void {
    act(() => super.accept());
  }

  override deliver(msg: ServerMessage): void {
    act(() => super.deliver(msg));
  }
}
