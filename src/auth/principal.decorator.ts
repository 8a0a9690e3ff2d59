import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Actor } from '../audit/domain/actor';
import type { AuthedRequest } from './auth.guard';
import type { Principal } from './token.service';

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().principal!;
});

/** The caller as an actor of the audit log: "<token name> (<role>)". */
export function actorOf(p: Principal): Actor {
  return { name: `${p.name} (${p.role})`, kind: 'person' };
}
