/**
 * Why storing a batch failed, for what the consumer does next:
 *  - unavailable: the database or Kafka cannot be reached or is overloaded (connection lost,
 *    SQLSTATE classes 08, 53, 57, a serialization failure or deadlock, a lock timeout): retry the
 *    batch as long as it takes — waiting loses nothing;
 *  - data: the database refuses the data itself (classes 22 and 23): store message by message and
 *    dead-letter the ones refused;
 *  - other: anything else (a bug, a schema the data trips over): retry a few times, then isolate and
 *    dead-letter the messages that keep failing while the database answers, so one message cannot
 *    stall its partition forever and an outage that looks unfamiliar never dead-letters anything.
 */
export type StoreFailure = 'unavailable' | 'data' | 'other';

const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];
// 55000/55006: a database not accepting connections (being restarted, dropped or copied).
const UNAVAILABLE_CODES = new Set([
  '40001',
  '40P01',
  '55P03',
  '55000',
  '55006',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is|not currently accepting connections|query runner was already released|Cannot use a pool after calling end|Client was closed/i;

/** How many times a batch that failed for an `other` reason is tried before its messages are isolated. */
export const MAX_OTHER_ATTEMPTS = 5;

export function storeFailure(e: unknown): StoreFailure {
  const err = e as { code?: unknown; name?: unknown; message?: unknown; retriable?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : null;
  if (code && (code.startsWith('22') || code.startsWith('23'))) return 'data';
  if (code && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CLASSES.some((c) => code.startsWith(c)))) return 'unavailable';
  const name = typeof err?.name === 'string' ? err.name : '';
  const message = typeof err?.message === 'string' ? err.message : '';
  // kafkajs errors (producing to the DLQ), pg pool and driver connection failures.
  if (name.startsWith('Kafka') || name === 'QueryRunnerAlreadyReleasedError' || err?.retriable === true) return 'unavailable';
  if (UNAVAILABLE_MESSAGES.test(message)) return 'unavailable';
  return 'other';
}
