/** What an orchestrator needs to know of one instance. */
export interface Readiness {
  status: 'ready' | 'not-ready';
  /** Why not, one line per unmet condition (empty when ready). */
  reasons: string[];
}

export interface ReadinessFacts {
  /** Error of `SELECT 1`, or null when PostgreSQL answered. */
  postgresError: string | null;
  /** Whether the flag state is loaded from Unleash or its backup file (until then everything stays in shadow). */
  flagsLoaded: boolean;
}

/**
 * Ready to take traffic: PostgreSQL answers (nothing can be read or stored without it) and the flag
 * state is known (without it every item stays in shadow and the gate cannot judge what the flags
 * say). Kafka, Unleash after the first load, and the model are not conditions: an instance without
 * them still serves the API and the dashboard, and /health says what is degraded.
 */
export function readiness(f: ReadinessFacts): Readiness {
  const reasons: string[] = [];
  if (f.postgresError !== null) reasons.push(`PostgreSQL does not answer: ${f.postgresError}`);
  if (!f.flagsLoaded) reasons.push('the flag state is not loaded yet (from Unleash or its backup file)');
  return { status: reasons.length === 0 ? 'ready' : 'not-ready', reasons };
}
