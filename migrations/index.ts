import { InitialSchema1795428000000 } from './1795428000000-InitialSchema';

/** Every migration, in order. A merged migration is never edited: add a new one. */
export const MIGRATIONS = [InitialSchema1795428000000];
