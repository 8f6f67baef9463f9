// Rendering for the component and hook tests, with react-dom itself in a happy-dom document (a
// test file opts in with `// @vitest-environment happy-dom`): render, a hook probe, events, and
// a stand-in WebSocket that a test drives the way the relay would.

import { act, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import type { SocketLike } from '../protocol/client';
import type { ClientMessage, ServerMessage } from '../protocol/wire';

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

/** The relay's end of a WebSocket: install with `vi.stubGlobal('WebSocket', FakeSocket)`. */
export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  static get last(): FakeSocket {
    const socket = FakeSocket.all.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  readyState = 0;
  readonly sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  accept(): void {
    act(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  deliver(msg: ServerMessage): void {
    act(() => this.onmessage?.({ data: JSON.stringify(msg) }));
  }

  messages(): ClientMessage[] {
    return this.sent.map((s) => JSON.parse(s) as ClientMessage);
  }

  /** The messages sent of one type. */
  of<T extends ClientMessage['type']>(type: T): Extract<ClientMessage, { type: T }>[] {
    return this.messages().filter((m): m is Extract<ClientMessage, { type: T }> => m.type === type);
  }
}
