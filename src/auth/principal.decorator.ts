import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Actor } from '../audit/domain/actor';
import type { AuthedRequest } from './auth.guard';
import { actorName } from './domain/workflow-scope';
import type { Principal } from './token.service';

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().principal!;
});

/** The caller as an actor of the audit log: "<token name> (<role>)", with the token's workflow scope if it has one. */
export function actorOf(p: Principal): Actor {
  return { name: actorName(p), kind: 'person' };
}
