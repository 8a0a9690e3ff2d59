import { cspFor, cspHeader, DASHBOARD_CSP, DOCS_CSP, handoffCookie, tokenHandoff } from './security-headers';

describe('content security policy', () => {
  it('lets the dashboard run only its own scripts and styles, never inline ones', () => {
    const h = cspHeader(DASHBOARD_CSP);
    expect(h).toContain("script-src 'self'");
    expect(h).toContain("style-src 'self'");
    expect(h).not.toContain('unsafe-inline');
    expect(h).not.toContain('unsafe-eval');
    expect(h).toContain("frame-ancestors 'none'");
    expect(h).toContain("object-src 'none'");
  });

  it('allows inline styles for Swagger UI at /docs only, and still no inline script', () => {
    expect(cspHeader(DOCS_CSP)).toContain("style-src 'self' 'unsafe-inline'");
    expect(cspHeader(DOCS_CSP)).toContain("script-src 'self';");
    expect(cspFor('/docs')).toBe('docs');
    expect(cspFor('/docs/swagger-ui-init.js')).toBe('docs');
    expect(cspFor('/docs-json')).toBe('docs');
    expect(cspFor('/')).toBe('strict');
    expect(cspFor('/docsy')).toBe('strict');
    expect(cspFor('/api/me')).toBe('strict');
  });
});

describe('the dashboard link token handoff', () => {
  it('takes the token out of the address and keeps the rest of the query', () => {
    expect(tokenHandoff('/?token=us_abc')).toEqual({ token: 'us_abc', location: '/' });
    expect(tokenHandoff('/?view=x&token=us_a%2Bb&y=2')).toEqual({ token: 'us_a+b', location: '/?view=x&y=2' });
    expect(tokenHandoff('/index.html?token=t1')).toEqual({ token: 't1', location: '/index.html' });
  });

  it('does nothing without a token', () => {
    expect(tokenHandoff('/')).toBeNull();
    expect(tokenHandoff('/?token=')).toBeNull();
    expect(tokenHandoff('/?view=x')).toBeNull();
  });

  it('hands the token over in a short-lived same-site cookie, Secure over HTTPS', () => {
    expect(handoffCookie('us_a+b', false)).toBe('understudy_token_handoff=us_a%2Bb; Path=/; Max-Age=60; SameSite=Strict');
    expect(handoffCookie('t', true)).toMatch(/; Secure$/);
  });
});
