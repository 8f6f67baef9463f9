// @vitest-environment happy-dom
// Tests of the shared components rendered in a document: the chat composer keeps what could not
// be sent, the reaction bar sends each kind, the room puts the host first and reads reactions
// out in one sentence, and the code form opens the guest page for the code as typed.

import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { byText, cleanup, click, render, submit, type } from '../../__tests__/dom';
import type { ParticipantView } from '../../protocol/wire';
import type { ChatLine, Reaction } from '../../room/state';
import { ChatPanel } from '../ChatPanel';
import { CodeForm } from '../CodeForm';
import { ReactionBar } from '../ReactionBar';
import { Room } from '../Room';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const familiar = { variant: 'halo', color: '#7dd3fc', accent: 'drift', seed: 1 } as const;
const person = (user_id: string, username: string, extra: Partial<ParticipantView> = {}): ParticipantView => ({
  user_id,
  username,
  role: 'guest',
  familiar,
  joined_at: '2024-01-01T00:00:00Z',
  webrtc_connected: false,
  away: false,
  ...extra,
});

describe('ChatPanel', () => {
  const lines: ChatLine[] = [
    { id: 1, user_id: 'h', username: 'Host', message: 'welcome' },
    { id: 2, user_id: 'me', username: 'Ana', message: 'thanks!' },
  ];

  it('invites the first message when there is none', () => {
    const { container } = render(<ChatPanel lines={[]} me="me" onSend={() => true} />);
    expect(container.querySelector('[role="log"]')?.textContent).toBe('No messages yet. Say hello!');
  });

  it('shows each line with its sender, ours marked apart', () => {
    const { container } = render(<ChatPanel lines={lines} me="me" onSend={() => true} />);
    // Lines, not list items: role=log would orphan <li>s (see ChatPanel).
    const items = [...container.querySelectorAll('[role="log"] > p')];
    expect(items.map((line) => line.textContent)).toEqual(['Host welcome', 'Ana thanks!']);
    expect(items[1]?.querySelector('span')?.className).toContain('text-ember');
    expect(items[0]?.querySelector('span')?.className).toContain('text-coral');
  });

  it('sends the trimmed text and clears it, but keeps it when it could not go out', () => {
    const sent: string[] = [];
    let online = false;
    const { container } = render(
      <ChatPanel lines={[]} me="me" onSend={(m) => (sent.push(m), online)} />,
    );
    const input = container.querySelector<HTMLInputElement>('input[aria-label="Message"]')!;
    const send = byText(container, 'Send', 'button') as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    type(input, '  hi there  ');
    expect(send.disabled).toBe(false);
    submit(input.form!);
    expect(sent).toEqual(['hi there']);
    expect(input.value).toBe('  hi there  ');
    online = true;
    submit(input.form!);
    expect(sent).toEqual(['hi there', 'hi there']);
    expect(input.value).toBe('');
    // Blank text is never sent.
    type(input, '   ');
    submit(input.form!);
    expect(sent).toHaveLength(2);
  });
});

describe('ReactionBar', () => {
  it('offers the four reactions by name and sends the one pressed', () => {
    const kinds: string[] = [];
    const { container } = render(<ReactionBar onReact={(k) => kinds.push(k)} />);
    const group = container.querySelector('[role="group"][aria-label="Reactions"]')!;
    const buttons = [...group.querySelectorAll('button')];
    expect(buttons.map((b) => b.textContent)).toEqual(['🙌Cheer', '💓Pulse', '👋Wave', '✨Spark']);
    click(buttons[0]!);
    click(buttons[3]!);
    expect(kinds).toEqual(['cheer', 'spark']);
  });
});

describe('Room', () => {
  const host = person('h', 'Hana', { role: 'host' });
  const ana = person('a', 'Ana', { webrtc_connected: true });
  const bo = person('b', 'Bo', { away: true });

  it('puts the host first, marks us, and says how each one is', () => {
    const { container } = render(
      <Room participants={[ana, host, bo]} hostId="h" me="a" reactions={[]} bpm={null} trackChangedAt={null} />,
    );
    const list = container.querySelector('ul[aria-label="People in the room"]')!;
    const items = [...list.querySelectorAll(':scope > li')].map((li) => li.textContent);
    expect(items).toEqual([
      'HanaHost, hosting',
      'Ana (you), listening live',
      'Bo, connection dropped, may come back',
    ]);
    expect(container.querySelector('h2')?.textContent).toBe('In the room · 3');
    expect(container.textContent).not.toContain('No listeners yet.');
  });

  it('says when nobody listens yet', () => {
    const { container } = render(<Room participants={[host]} hostId="h" me="h" reactions={[]} bpm={null} trackChangedAt={null} />);
    expect(container.textContent).toContain('No listeners yet.');
  });

  it('floats reactions over their sender and reads them out together', () => {
    vi.useFakeTimers();
    const reactions: Reaction[] = [
      { id: 1, user_id: 'b', kind: 'wave', at: 0 },
      { id: 2, user_id: 'h', kind: 'cheer', at: 0 },
    ];
    const { container, rerender } = render(
      <Room participants={[host, ana, bo]} hostId="h" me="a" reactions={reactions} bpm={120} trackChangedAt={null} />,
    );
    const items = [...container.querySelectorAll('ul[aria-label="People in the room"] > li')];
    expect(items[0]?.querySelector('.float-up')?.textContent).toBe('🙌');
    expect(items[2]?.querySelector('.float-up')?.textContent).toBe('👋');
    // On the beat: 120 BPM is half a second.
    expect(items[0]?.querySelector<HTMLElement>('.sway')?.style.getPropertyValue('--beat')).toBe('0.500s');
    const live = container.querySelector('p[role="status"]')!;
    expect(live.textContent).toBe('');
    act(() => vi.advanceTimersByTime(0));
    expect(live.textContent).toBe('Bo waved, Hana cheered.');
    // What comes within the next three seconds is said together, once they are up.
    const more = [...reactions, { id: 3, user_id: 'b', kind: 'spark', at: 0 } as Reaction];
    rerender(<Room participants={[host, ana, bo]} hostId="h" me="a" reactions={more} bpm={120} trackChangedAt={null} />);
    act(() => vi.advanceTimersByTime(2_999));
    expect(live.textContent).toBe('Bo waved, Hana cheered.');
    act(() => vi.advanceTimersByTime(1));
    expect(live.textContent).toBe('Bo sent a spark.');
  });
});

describe('CodeForm', () => {
  it('opens the guest page for the code as people type it', () => {
    history.replaceState(null, '', '/');
    const { container } = render(<CodeForm />);
    const input = container.querySelector<HTMLInputElement>('#session-code')!;
    const listen = byText(container, 'Listen', 'button') as HTMLButtonElement;
    expect(listen.disabled).toBe(true);
    type(input, 'ab-c 12');
    expect(listen.disabled).toBe(false);
    submit(input.form!);
    expect(location.pathname).toBe('/listen/ABC12');
  });
});
