// @vitest-environment happy-dom
// Tests of the guest page rendered in a document, over a stand-in lookup (fetch) and socket: the
// lookup's screens, the invitation, joining into the session, chat and reactions from the page,
// the refusal and ending screens, and what window.__familiar reports to the browser tests.

import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, byText, cleanup, click, render, submit, type } from '../../../__tests__/dom';
import type { ParticipantView, PublicSession, ServerMessage } from '../../../protocol/wire';
import { FakePeerConnection } from '../lib/__tests__/fakePeerConnection';
import ListenPage from '../ListenPage';

const publicSession: PublicSession = { code: 'ABC123', name: 'Sunday Vinyl', participant_count: 1, has_password: false, turn_available: false };
const familiar = { variant: 'halo', color: '#7dd3fc', accent: 'drift', seed: 1 } as const;
const person = (user_id: string, username: string, role: ParticipantView['role']): ParticipantView => ({
  user_id,
  username,
  role,
  familiar,
  joined_at: '2024-01-01T00:00:00Z',
  webrtc_connected: false,
  away: false,
});
const joined: ServerMessage = {
  type: 'session_joined',
  session: {
    id: 's1',
    code: 'ABC123',
    name: 'Sunday Vinyl',
    host_id: 'h',
    created_at: '2024-01-01T00:00:00Z',
    participant_count: 2,
    webrtc_enabled: true,
    has_password: false,
    playback_state: { track_id: 't1', is_playing: false, position_ms: 0 },
    track_meta: { title: 'Harvest Moon', artist: 'Neil Young' },
    participants: [person('h', 'Hana', 'host'), person('me', 'Ana', 'guest')],
    seq: 0,
  },
  your_user_id: 'me',
  your_peer_id: 'p',
  ice_servers: [],
  resume_token: 'tok',
};

let lookup: { status: number; body?: unknown };
let lookups: string[];

beforeEach(() => {
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
  FakeSocket.all = [];
  sessionStorage.clear();
  localStorage.clear();
  history.replaceState(null, '', '/listen/ABC123');
  lookup = { status: 200, body: publicSession };
  lookups = [];
  vi.stubGlobal('fetch', async (url: string) => {
    lookups.push(url);
    return new Response(JSON.stringify(lookup.body ?? {}), { status: lookup.status });
  });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Lets the lookup's promises settle and React render what they set. */
const settle = () => act(() => new Promise((r) => setTimeout(r, 0)));

async function page(code = 'ABC123') {
  const rendered = render(<ListenPage code={code} />);
  await settle();
  return rendered;
}

const heading = (root: ParentNode) => root.querySelector('h1')?.textContent;

async function joinedPage() {
  const { container } = await page();
  const socket = FakeSocket.last;
  socket.accept();
  type(container.querySelector<HTMLInputElement>('#guest-name')!, 'Ana');
  submit(container.querySelector('form')!);
  socket.deliver(joined);
  return { container, socket };
}

describe('ListenPage', () => {
  it('looks the code up and shows the invitation', async () => {
    const { container } = await page();
    expect(lookups).toEqual(['/api/v1/sessions/by-code/ABC123']);
    expect(container.textContent).toContain("You're invited to listen");
    expect(heading(container)).toBe('Sunday Vinyl');
    expect(container.textContent).toContain('Just the host so far · code ABC123');
    expect(container.querySelector('#guest-password')).toBeNull();
    expect(window.__familiar?.state()).toBe('ready');
    expect(document.title).toBe('Sunday Vinyl · Familiar Sessions');
  });

  it('asks for the password of a private session', async () => {
    lookup = { status: 200, body: { ...publicSession, has_password: true, participant_count: 3 } };
    const { container } = await page();
    expect(container.querySelector('#guest-password')).not.toBeNull();
    expect(container.textContent).toContain('3 people here');
  });

  it('says when there is no such session, and offers another code', async () => {
    lookup = { status: 404 };
    const { container } = await page();
    expect(heading(container)).toBe('Session not found');
    expect(container.textContent).toContain("There's no session with the code ABC123 right now.");
    expect(container.querySelector('#session-code')).not.toBeNull();
    expect(window.__familiar?.state()).toBe('not_found');
  });

  it('says when the relay cannot be reached, and tries again on request', async () => {
    lookup = { status: 503 };
    const { container } = await page();
    expect(heading(container)).toBe("Can't reach the relay");
    lookup = { status: 200, body: publicSession };
    click(byText(container, 'Try again', 'button'));
    await settle();
    expect(lookups).toHaveLength(2);
    expect(heading(container)).toBe('Sunday Vinyl');
  });

  it('puts the canonical code in the address bar', async () => {
    await page('abc-123');
    expect(location.pathname).toBe('/listen/ABC123');
  });

  it('joins into the session: status, now playing, the room, reactions and chat', async () => {
    const { container, socket } = await joinedPage();
    expect(socket.of('join_guest')).toEqual([
      { type: 'join_guest', code: 'ABC123', familiar: expect.any(Object), guest_name: 'Ana', capabilities: ['resume'] },
    ]);
    expect(localStorage.getItem('familiar:name')).toBe('Ana');
    const status = container.querySelector('section[aria-label="Connection"] [role="status"]');
    expect(status?.textContent).toBe('Connecting to the host…');
    expect(container.querySelector('[aria-current="step"]')?.textContent).toContain('Connecting to the host');
    expect(container.textContent).toContain('Code ABC123 · 2 here');
    expect(container.querySelector('#np-heading')?.textContent).toBe('Harvest Moon');
    expect(container.textContent).toContain('Neil Young');
    expect(window.__familiar?.state()).toBe('negotiating');

    click(byText(container, '🙌Cheer', 'button'));
    expect(socket.of('reaction')).toEqual([{ type: 'reaction', kind: 'cheer', id: expect.any(String) }]);
    const message = container.querySelector<HTMLInputElement>('input[aria-label="Message"]')!;
    type(message, 'hello');
    submit(message.form!);
    expect(socket.of('chat')).toEqual([{ type: 'chat', message: 'hello', id: expect.any(String) }]);
    expect(message.value).toBe('');
    socket.deliver({ type: 'chat', user_id: 'h', username: 'Hana', message: 'welcome Ana' });
    expect(container.querySelector('[role="log"]')?.textContent).toBe('Hana welcome Ana');
  });

  it('shows a notice from the relay until dismissed', async () => {
    const { container, socket } = await joinedPage();
    socket.deliver({ type: 'error', code: 'rate_limited', message: 'Slow down' });
    expect(container.querySelector('[role="alert"]')?.textContent).toContain('Slow down');
    click(byText(container, 'Dismiss', 'button'));
    expect(container.querySelector('[role="alert"]')).toBeNull();
  });

  it('asks again after a wrong password', async () => {
    lookup = { status: 200, body: { ...publicSession, has_password: true } };
    const { container } = await page();
    const socket = FakeSocket.last;
    socket.accept();
    type(container.querySelector<HTMLInputElement>('#guest-password')!, 'nope');
    submit(container.querySelector('form')!);
    socket.deliver({ type: 'error', code: 'invalid_password', message: 'Wrong password' });
    expect(heading(container)).toBe('Wrong password');
    expect(window.__familiar?.state()).toBe('wrong_password');
    type(container.querySelector<HTMLInputElement>('#retry-password')!, 'right');
    submit(container.querySelector('form')!);
    expect(socket.of('join_guest').at(-1)?.password).toBe('right');
  });

  it('says so when removed, and offers the way back home only', async () => {
    const { container, socket } = await joinedPage();
    socket.deliver({ type: 'user_kicked', user_id: 'me', reason: 'host_kicked' });
    expect(heading(container)).toBe('You were removed from the session');
    expect([...container.querySelectorAll('button')].map((b) => b.textContent)).toEqual(['Back to start']);
  });

  it('leaves on Leave, and can join again', async () => {
    const { container, socket } = await joinedPage();
    click(byText(container, 'Leave', 'button'));
    expect(socket.of('leave')).toHaveLength(1);
    expect(heading(container)).toBe('You left the session');
    click(byText(container, 'Join again', 'button'));
    expect(socket.of('join_guest')).toHaveLength(2);
    expect(socket.of('join_guest')[1]?.guest_name).toBe('Ana');
  });

  it('ends with the host', async () => {
    const { container, socket } = await joinedPage();
    socket.deliver({ type: 'session_ended', reason: 'host_left' });
    expect(heading(container)).toBe('The session has ended');
    expect(window.__familiar?.state()).toBe('host_ended');
  });
});
