import { SetMetadata } from '@nestjs/common';
import type { Role } from './domain/token';

export const ROLES_KEY = 'understudy:roles';
export const PUBLIC_KEY = 'understudy:public';

/** The roles allowed to call a route (admin always may). Every route states its roles or is @Public(). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** A route anyone may call (health, metrics, docs, the dashboard's static files). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
