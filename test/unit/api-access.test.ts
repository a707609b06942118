/**
 * The API's access policy over plain headers: who gets in with and without a token, foreign
 * pages refused by Origin or Sec-Fetch-Site, and a rebound DNS name refused on loopback.
 */
import { describe, expect, it } from 'vitest';
import { apiAccessPolicy, isLoopbackHost, TOKEN_COOKIE } from '../../app/api/api-access.js';

const TOKEN = 'a-token-of-enough-length-42';

describe('API access policy', () => {
  it('lets loopback callers in without a token, but only under a loopback Host name', () => {
    const policy = apiAccessPolicy({ host: '127.0.0.1' });
    expect(policy.token).toBeNull();
    expect(policy.check({ host: '127.0.0.1:8080' })).toBeNull();
    expect(policy.check({ host: 'localhost:8080' })).toBeNull();
    expect(policy.check({ host: '[::1]:8080' })).toBeNull();
    // DNS rebinding: the browser calls evil.example, which now resolves to 127.0.0.1.
    expect(policy.check({ host: 'evil.example:8080' })).toEqual({
      status: 403,
      error: expect.stringMatching(/^Host "evil.example" is not a loopback name/) as unknown,
    });
  });

  it('makes up a token when listening beyond loopback, and takes it as bearer, cookie or socket.io auth', () => {
    const policy = apiAccessPolicy({ host: '0.0.0.0' });
    expect(policy.generated).toBe(true);
    expect(policy.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const host = 'fedsim.example:8080';
    expect(policy.check({ host })).toEqual({ status: 401, error: expect.stringContaining('Authorization: Bearer <token>') as unknown });
    expect(policy.check({ host, authorization: 'Bearer wrong-token-of-length' })?.status).toBe(401);
    expect(policy.check({ host, authorization: `Bearer ${policy.token}` })).toBeNull();
    expect(policy.check({ host, authorization: `bearer ${policy.token}` })).toBeNull();
    expect(policy.check({ host, cookie: `theme=dark; ${TOKEN_COOKIE}=${policy.token}` })).toBeNull();
    expect(policy.check({ host, cookie: `${TOKEN_COOKIE}=%E0%A4%A` })?.status).toBe(401);
    expect(policy.check({ host }, policy.token)).toBeNull();
    expect(policy.check({ host }, 42)?.status).toBe(401);
    // Two servers never share a generated token.
    expect(apiAccessPolicy({ host: '0.0.0.0' }).token).not.toBe(policy.token);
  });

  it('requires a configured token even on loopback, and refuses one that is too short', () => {
    const policy = apiAccessPolicy({ host: 'localhost', token: TOKEN });
    expect(policy.generated).toBe(false);
    expect(policy.check({ host: 'localhost:1' })?.status).toBe(401);
    expect(policy.check({ host: 'localhost:1', authorization: `Bearer ${TOKEN}` })).toBeNull();
    expect(policy.accepts(`${TOKEN}x`)).toBe(false);
    expect(() => apiAccessPolicy({ host: 'localhost', token: 'short' })).toThrow(
      'FEDSIM_API_TOKEN: a token of 5 characters is too easy to guess (expected at least 16)',
    );
    expect(() => apiAccessPolicy({ host: '0.0.0.0', token: '   ' })).toThrow(/0 characters/);
  });

  it("refuses other sites' pages by Origin or Sec-Fetch-Site, with or without the token", () => {
    const policy = apiAccessPolicy({ host: '0.0.0.0', token: TOKEN, allowedOrigins: ['https://proxy.example/'] });
    const authorization = `Bearer ${TOKEN}`;
    const host = 'fedsim.example:8080';
    expect(policy.check({ host, authorization, origin: 'http://fedsim.example:8080' })).toBeNull();
    expect(policy.check({ host, authorization, origin: 'https://proxy.example' })).toBeNull();
    expect(policy.check({ host, authorization, origin: 'http://evil.example' })).toEqual({
      status: 403,
      error:
        'requests from pages of other sites are refused (Origin "http://evil.example", this server is "fedsim.example:8080"); allow one with --allow-origin',
    });
    expect(policy.check({ host, authorization, origin: 'null' })?.status).toBe(403);
    expect(policy.check({ host, authorization, origin: 'http://fedsim.example:9999' })?.status).toBe(403);
    expect(policy.check({ host, authorization, 'sec-fetch-site': 'cross-site' })?.status).toBe(403);
    expect(policy.check({ host, authorization, 'sec-fetch-site': 'same-origin' })).toBeNull();
    expect(apiAccessPolicy({ host: '127.0.0.1' }).check({ host: '127.0.0.1:8080', origin: 'http://evil.example' })?.status).toBe(403);
  });

  it('knows the loopback names', () => {
    expect(['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.com', '127.0.0.1.example.com'].some(isLoopbackHost)).toBe(false);
  });
});
