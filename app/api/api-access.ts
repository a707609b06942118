/**
 * Who may use the HTTP API and the socket.io feed. Three checks, in this order, on every request
 * to /api/ and every socket.io connection (the dashboard's static files, /healthz, /readyz and
 * /metrics stay open: probes and Prometheus reach them, and they carry no control):
 *
 * - Origin: a request made by another site's page is refused (403). Browsers attach Origin to
 *   cross-site fetches, form posts and WebSocket handshakes; a page cannot forge it. Without it
 *   (curl, k6, a navigation), Sec-Fetch-Site still says "cross-site" when a browser sent it.
 * - Host, on a loopback server without a token: only a loopback name is accepted, so a page on a
 *   rebound DNS name (evil.example → 127.0.0.1) is not "same origin" with the API (403).
 * - Token: required when the server listens beyond loopback, or whenever one is configured
 *   (FEDSIM_API_TOKEN): `Authorization: Bearer <token>`, or the HttpOnly SameSite=Strict cookie
 *   the dashboard gets from POST /api/session, or socket.io's `auth: { token }` (401).
 *
 * A pure policy over headers: api-server.ts applies it to Fastify and socket.io.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'fedsim_token';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

export interface AccessRefusal {
  status: 401 | 403;
  error: string;
}

export interface RequestHeaders {
  host?: string;
  origin?: string;
  'sec-fetch-site'?: string;
  authorization?: string;
  cookie?: string;
}

export interface ApiAccessPolicy {
  /** null: no token is needed (a loopback server with none configured). */
  readonly token: string | null;
  /** Whether the token was made up at start (and must be printed for the user). */
  readonly generated: boolean;
  /** The refusal for a request with these headers, or null to let it in. `socketToken`: socket.io's auth.token. */
  check(headers: RequestHeaders, socketToken?: unknown): AccessRefusal | null;
  /** Whether a presented token is this server's (constant time). */
  accepts(token: unknown): boolean;
}

export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1');
  return LOOPBACK_HOSTS.has(name) || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * `token`: the configured one (FEDSIM_API_TOKEN), or undefined to generate one when `host` is not
 * loopback. An empty token is refused: it would let everyone in while looking protected.
 */
export function apiAccessPolicy(options: { host: string; token?: string; allowedOrigins?: string[] }): ApiAccessPolicy {
  if (options.token !== undefined && options.token.trim().length < 16) {
    throw new Error(`FEDSIM_API_TOKEN: a token of ${options.token.trim().length} characters is too easy to guess (expected at least 16)`);
  }
  const loopback = isLoopbackHost(options.host);
  const generated = options.token === undefined && !loopback;
  const token = options.token?.trim() ?? (generated ? randomBytes(24).toString('base64url') : null);
  const allowedOrigins = new Set((options.allowedOrigins ?? []).map((o) => o.replace(/\/+$/, '')));
  const digest = token === null ? null : sha256(token);

  const accepts = (presented: unknown): boolean => typeof presented === 'string' && digest !== null && timingSafeEqual(sha256(presented), digest);

  return {
    token,
    generated,
    accepts,
    check(headers, socketToken) {
      const origin = originRefusal(headers, allowedOrigins);
      if (origin) return { status: 403, error: origin };
      if (token === null) {
        const host = hostName(headers.host);
        if (host !== null && !isLoopbackHost(host)) {
          return {
            status: 403,
            error: `Host "${host}" is not a loopback name; this server listens on loopback only and answers only to localhost or 127.0.0.1`,
          };
        }
        return null;
      }
      if ([bearerOf(headers.authorization), cookieOf(headers.cookie), socketToken].some(accepts)) return null;
      return {
        status: 401,
        error:
          'this server needs its access token: send "Authorization: Bearer <token>" (the token fedsim printed at start, or FEDSIM_API_TOKEN), or open the dashboard link it printed',
      };
    },
  };
}

function originRefusal(headers: RequestHeaders, allowedOrigins: Set<string>): string | null {
  const { origin, host } = headers;
  if (origin !== undefined) {
    if (allowedOrigins.has(origin)) return null;
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host;
    } catch {
      // "null" (a sandboxed frame, a file:// page) or garbage: not this server's page.
    }
    if (originHost !== null && host !== undefined && originHost === host.toLowerCase()) return null;
    return `requests from pages of other sites are refused (Origin ${clip(origin)}, this server is ${clip(host ?? '?')}); allow one with --allow-origin`;
  }
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `requests from pages of other sites are refused (Sec-Fetch-Site: ${site})`;
  return null;
}

function hostName(host: string | undefined): string | null {
  if (!host) return null;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

function cookieOf(cookie: string | undefined): string | undefined {
  for (const part of (cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== TOKEN_COOKIE) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function clip(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
