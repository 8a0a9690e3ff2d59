/**
 * The Content-Security-Policy of each part of the HTTP surface, as helmet directives. The dashboard
 * loads only its own files (no inline script or style, no other origin): an injected script or a
 * token sent elsewhere is refused by the browser. Swagger UI at /docs ships inline <style> blocks and
 * data: images, so it alone may use inline styles; its scripts are still files of this origin.
 */
export type CspDirectives = Record<string, string[]>;

const common: CspDirectives = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export const DASHBOARD_CSP: CspDirectives = common;

export const DOCS_CSP: CspDirectives = { ...common, 'style-src': ["'self'", "'unsafe-inline'"] };

/** The policy for a request path: /docs (Swagger UI and its assets) gets its own, everything else the strict one. */
export function cspFor(path: string): 'docs' | 'strict' {
  return path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-json') ? 'docs' : 'strict';
}

/** helmet's header value for a set of directives (also what tests compare against). */
export function cspHeader(d: CspDirectives): string {
  return Object.entries(d)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}

/**
 * The dashboard's sign-in link (`/?token=…`) is exchanged before the page loads anything: the
 * server answers it with a redirect to the same address without the token and hands the token
 * over in a short-lived cookie the page moves to session storage at once. So the secret never
 * reaches a Referer header, a sub-resource request, the history or a bookmark.
 */
export const TOKEN_HANDOFF_COOKIE = 'understudy_token_handoff';
export const TOKEN_HANDOFF_MAX_AGE_S = 60;

export interface TokenHandoff {
  token: string;
  /** Where to send the browser: the same path and query without `token`. */
  location: string;
}

/** The handoff for a dashboard request, or null when it carries no token. */
export function tokenHandoff(originalUrl: string): TokenHandoff | null {
  const u = new URL(originalUrl, 'http://dashboard.invalid');
  const token = u.searchParams.get('token');
  if (!token) return null;
  u.searchParams.delete('token');
  const rest = u.searchParams.toString();
  return { token, location: `${u.pathname}${rest ? `?${rest}` : ''}` };
}

/** The Set-Cookie value carrying the token to the page (SameSite=Strict; Secure on HTTPS). */
export function handoffCookie(token: string, secure: boolean): string {
  return [
    `${TOKEN_HANDOFF_COOKIE}=${encodeURIComponent(token)}`,
    'Path=/',
    `Max-Age=${TOKEN_HANDOFF_MAX_AGE_S}`,
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
