// Unit tests of the error table: for every code the relay can send, whether it refuses a join,
// what a resume does about it, which screen the guest shows, and which ones are never a notice.

import { describe, expect, it } from 'vitest';
import { errorRule } from '../errors';
import type { ErrorCode } from '../wire';

/** Every code, checked against the generated union in both directions by `satisfies`. */
const ALL_CODES = Object.keys({
  bad_json: 0,
  not_object: 0,
  missing_type: 0,
  invalid_message: 0,
  binary_not_supported: 0,
  already_in_session: 0,
  session_not_found: 0,
  invalid_password: 0,
  session_full: 0,
  server_full: 0,
  not_host: 0,
  cannot_kick: 0,
  host_cannot_request_offer: 0,
  not_allowed: 0,
  kicked: 0,
  chat_too_long: 0,
  chat_empty: 0,
  password_too_long: 0,
  rate_limited: 0,
  join_throttled: 0,
  invalid_token: 0,
  token_expired: 0,
  host_not_back: 0,
  too_many_sessions: 0,
  internal: 0,
} satisfies Record<ErrorCode, 0>) as ErrorCode[];

const where = (test: (code: ErrorCode) => unknown) => ALL_CODES.filter(test).sort();

describe('errorRule', () => {
  it('lets the client stop asking only for the refusals', () => {
    expect(where((c) => errorRule(c).refuses)).toEqual(
      [
        'already_in_session',
        'invalid_password',
        'join_throttled',
        'kicked',
        'server_full',
        'session_full',
        'session_not_found',
        'too_many_sessions',
      ],
    );
  });

  it('retries a resume that must wait, and joins afresh when the place is gone', () => {
    expect(where((c) => errorRule(c).onResume === 'retry')).toEqual(['host_not_back', 'join_throttled']);
    expect(where((c) => errorRule(c).onResume === 'rejoin')).toEqual(['invalid_token', 'token_expired']);
  });

  it('names the guest screen for each refusal it shows', () => {
    const screens = Object.fromEntries(where((c) => errorRule(c).screen).map((c) => [c, errorRule(c).screen]));
    expect(screens).toEqual({
      invalid_password: 'wrong_password',
      join_throttled: 'throttled',
      kicked: 'kicked',
      server_full: 'server_full',
      session_full: 'session_full',
      session_not_found: 'not_found',
    });
  });

  it('keeps the resume fallbacks quiet and every other error a notice', () => {
    expect(where((c) => errorRule(c).quiet)).toEqual(['host_not_back', 'invalid_token', 'token_expired']);
    // What the guest page tells the person in words: neither a screen, nor silent.
    const guestNotices = where((c) => !errorRule(c).screen && !errorRule(c).refuses && !errorRule(c).quiet);
    expect(guestNotices).toContain('chat_too_long');
    expect(guestNotices).toContain('rate_limited');
    expect(guestNotices).not.toContain('already_in_session');
    expect(guestNotices).toHaveLength(ALL_CODES.length - 11);
  });
});
