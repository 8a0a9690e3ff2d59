import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { Logger } from 'pino';
import { ApiRateLimits, rateLimitSubject, RateLimitSubject } from './domain/api-rate-limit';
import { cspFor, DASHBOARD_CSP, DOCS_CSP, handoffCookie, tokenHandoff } from './domain/security-headers';

/** Security headers on every answer: helmet with the strict policy, a relaxed one for Swagger UI at /docs. */
export function securityHeaders(): RequestHandler {
  const common = {
    // Every page and answer: no Referer leaves with a URL (the dashboard's link held a token).
    referrerPolicy: { policy: 'no-referrer' as const },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  };
  const strict = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: DASHBOARD_CSP } });
  const docs = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP } });
  return (req, res, next) => (cspFor(req.path) === 'docs' ? docs : strict)(req, res, next);
}

/**
 * The dashboard link `/?token=…`: answered with a redirect to the same address without the token,
 * which rides along in a one-minute cookie the page moves to session storage before it calls
 * anything. Nothing of the page loads while the token is in the address.
 */
export function dashboardTokenHandoff(): RequestHandler {
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.path !== '/' && req.path !== '/index.html')) return next();
    const handoff = tokenHandoff(req.originalUrl);
    if (!handoff) return next();
    res.setHeader('Set-Cookie', handoffCookie(handoff.token, req.secure));
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, handoff.location);
  };
}

type WithSubject = Request & { rateLimitSubject?: RateLimitSubject };

/**
 * The API's rate limit, per instance (counts are kept in memory): each valid token has its own
 * allowance a minute, requests without one share their address's. Over it: 429 with Retry-After.
 */
export function apiRateLimit(
  limits: ApiRateLimits,
  tokenIdOf: (authorization: string | undefined) => Promise<string | null>,
  logger: Logger,
): RequestHandler[] {
  const windowMs = 60_000;
  const resolve = async (req: WithSubject, _res: Response, next: NextFunction) => {
    try {
      const tokenId = await tokenIdOf(req.headers.authorization);
      req.rateLimitSubject = rateLimitSubject(tokenId, ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown'), limits);
      next();
    } catch (e) {
      next(e);
    }
  };
  const limiter = rateLimit({
    windowMs,
    limit: (req) => (req as WithSubject).rateLimitSubject!.limit,
    skip: (req) => (req as WithSubject).rateLimitSubject!.limit === 0,
    keyGenerator: (req) => (req as WithSubject).rateLimitSubject!.key,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (req, res) => {
      const subject = (req as WithSubject).rateLimitSubject!;
      const id = randomUUID();
      const who = subject.key.startsWith('token:') ? 'this token' : 'this address without a valid token';
      logger.warn(
        {
          errorId: id,
          subject: subject.key.startsWith('token:') ? subject.key : 'address',
          limit: subject.limit,
          method: req.method,
          url: req.originalUrl.split('?')[0],
        },
        'API rate limit reached',
      );
      res.setHeader('x-error-id', id);
      res.status(429).json({
        error: {
          code: 'RATE_LIMITED',
          message: `too many requests: ${subject.limit} a minute are allowed for ${who}; retry after ${res.getHeader('retry-after') ?? 60} s`,
          id,
        },
      });
    },
  });
  return [resolve as RequestHandler, limiter];
}
