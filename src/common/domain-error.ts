/**
 * Domain errors carry a code; one filter (HttpErrorFilter) maps codes to HTTP statuses,
 * so services stay free of HTTP types.
 */
export enum ErrorCode {
  Validation = 'VALIDATION',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  InvalidTransition = 'INVALID_TRANSITION',
  Unavailable = 'UNAVAILABLE',
  BudgetExhausted = 'BUDGET_EXHAUSTED',
  InvalidWorkflow = 'INVALID_WORKFLOW',
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * An outside system a request needed (e.g. Unleash) failed or refused. Its adapter's error extends
 * this, so the one filter answers 503 UNAVAILABLE naming the system, without knowing the adapter.
 */
export class DependencyError extends Error {
  constructor(
    readonly dependency: string,
    message: string,
  ) {
    super(message);
    this.name = 'DependencyError';
  }
}

export const notFound = (what: string, details?: Record<string, unknown>) => new DomainError(ErrorCode.NotFound, `${what} was not found`, details);

/** Message of any thrown value, for logs and job errors. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
