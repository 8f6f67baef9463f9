// Unit tests of the route table.

import { describe, expect, it } from 'vitest';
import { matchRoute } from '../router';

describe('matchRoute', () => {
  it('matches the three pages', () => {
    expect(matchRoute('/')).toEqual({ page: 'splash' });
    expect(matchRoute('/host')).toEqual({ page: 'host' });
    expect(matchRoute('/host/')).toEqual({ page: 'host' });
    expect(matchRoute('/listen/ABC123')).toEqual({ page: 'listen', code: 'ABC123' });
    expect(matchRoute('/listen/ab%20c')).toEqual({ page: 'listen', code: 'ab c' });
  });

  it('treats everything else as unknown', () => {
    expect(matchRoute('/listen')).toEqual({ page: 'not_found' });
    expect(matchRoute('/listen/a/b')).toEqual({ page: 'not_found' });
    expect(matchRoute('/nope')).toEqual({ page: 'not_found' });
    expect(matchRoute('/listen/%E0%A4%A')).toEqual({ page: 'listen', code: '%E0%A4%A' });
  });
});
