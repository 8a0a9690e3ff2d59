import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, ErrorCode } from '../common/domain-error';
import { bearerToken, Role, roleAllowed } from './domain/token';
import { requestRefusal } from './domain/workflow-scope';
import { CROSS_WORKFLOW_KEY, PUBLIC_KEY, ROLES_KEY } from './roles.decorator';
import { Principal, TokenService } from './token.service';

export interface AuthedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
  params?: unknown;
  query?: unknown;
  body?: unknown;
}

/**
 * Every request is refused unless its route is public or it carries a valid bearer token of an
 * allowed role: 401 without a valid token (saying whether it is unknown, revoked or expired), 403
 * with one of another role. A route that states no roles is refused to everyone but admins, so a
 * forgotten @Roles() fails closed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new DomainError(ErrorCode.Unauthenticated, 'a bearer token is required (Authorization: Bearer <token>)');
    const checked = await this.tokens.check(token);
    if ('refused' in checked) throw new DomainError(ErrorCode.Unauthenticated, checked.refused);
    const principal = checked.principal;
    req.principal = principal;
    const allowed = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [];
    if (!roleAllowed(principal.role, allowed)) {
      throw new DomainError(ErrorCode.Forbidden, `role ${principal.role} may not call this route (allowed: ${['admin', ...allowed].join(', ')})`);
    }
    // A workflow-scoped token: the workflow the request names (path, query or body) must be in its scope.
    const outOfScope = requestRefusal(principal, req, this.reflector.getAllAndOverride<boolean>(CROSS_WORKFLOW_KEY, targets) ?? false);
    if (outOfScope) throw new DomainError(ErrorCode.Forbidden, outOfScope);
    return true;
  }
}
