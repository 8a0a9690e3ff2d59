import { SetMetadata } from '@nestjs/common';
import type { Role } from './domain/token';

export const ROLES_KEY = 'understudy:roles';
export const PUBLIC_KEY = 'understudy:public';
export const CROSS_WORKFLOW_KEY = 'understudy:cross-workflow';

/** The roles allowed to call a route (admin always may). Every route states its roles or is @Public(). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** A route anyone may call (health, metrics, docs, the dashboard's static files). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/**
 * A route that names no workflow in its path, query or body, and whose handler restricts itself to
 * the caller's workflow scope (a list filtered to it, the global kill switch). Without it a
 * workflow-scoped token is refused any route that names no workflow: a new route fails closed.
 */
export const CrossWorkflow = () => SetMetadata(CROSS_WORKFLOW_KEY, true);
