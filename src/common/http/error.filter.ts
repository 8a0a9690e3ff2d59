import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Logger } from 'pino';
import { DependencyError, DomainError, ErrorCode } from '../domain-error';
import { LOGGER } from '../logger';

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.Validation]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.InvalidTransition]: 409,
  [ErrorCode.InvalidWorkflow]: 400,
  [ErrorCode.BudgetExhausted]: 429,
  [ErrorCode.Unavailable]: 503,
};

interface Res {
  status(code: number): Res;
  json(body: unknown): void;
  setHeader(name: string, value: string): void;
  headersSent?: boolean;
}

/**
 * The one place errors become HTTP: domain errors by their code, Nest's own HTTP errors (404 of
 * an unknown route, 400 of a bad body) as they are, and anything else as a 500 with an error id
 * that is also in the log — never with the internals.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(e: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Res>();
    const req = host.switchToHttp().getRequest<{ method: string; url: string }>();
    const id = randomUUID();
    let status = 500;
    let body: { code: string; message: string; id: string; details?: unknown };
    if (e instanceof DomainError) {
      status = STATUS[e.code];
      body = { code: e.code, message: e.message, id, ...(e.details ? { details: e.details } : {}) };
    } else if (e instanceof DependencyError) {
      status = 503;
      body = { code: ErrorCode.Unavailable, message: `${e.dependency}: ${e.message}`, id };
    } else if (e instanceof HttpException) {
      status = e.getStatus();
      const r = e.getResponse() as { message?: unknown; details?: unknown } | string;
      const message = typeof r === 'string' ? r : Array.isArray(r.message) ? r.message.join('; ') : String(r.message ?? e.message);
      body = {
        code: status === 404 ? ErrorCode.NotFound : status === 400 ? ErrorCode.Validation : `HTTP_${status}`,
        message,
        id,
        ...(typeof r === 'object' && r.details ? { details: r.details } : {}),
      };
    } else {
      body = { code: 'INTERNAL', message: `internal error ${id}: see the service log`, id };
    }
    const level = status >= 500 ? 'error' : 'info';
    this.logger[level](
      {
        errorId: id,
        status,
        method: req.method,
        url: req.url.split('?')[0],
        err: e instanceof Error ? { message: e.message, stack: status >= 500 ? e.stack : undefined } : e,
      },
      'request failed',
    );
    if (res.headersSent) return;
    res.setHeader('x-error-id', id);
    res.status(status).json({ error: body });
  }
}
