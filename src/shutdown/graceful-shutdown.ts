import { planShutdown, SHUTDOWN_PHASES, ShutdownPhase } from './domain/shutdown-plan';

/** One thing a graceful stop waits for. */
export interface ShutdownStep {
  phase: ShutdownPhase;
  /** What is waited for, as the log says it. */
  name: string;
  /** Does it; `deadline` (epoch ms) is when its phase stops waiting, for steps that bound their own waits. */
  run(deadline: number): Promise<unknown>;
  /** What it means when the step is abandoned at its deadline (logged then). */
  ifAbandoned: string;
}

export interface ShutdownLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StepOutcome {
  name: string;
  phase: ShutdownPhase;
  outcome: 'done' | 'abandoned' | 'failed';
  ms: number;
}

export interface ShutdownReport {
  totalMs: number;
  steps: StepOutcome[];
}

/**
 * Runs the steps phase by phase (SHUTDOWN_PHASES' order; the steps of one phase together), each
 * phase bounded by its deadline in the plan: a step still running then is abandoned — left to
 * finish or not in the background — and logged with what that means. A step that fails is logged
 * and the stop goes on. Never takes longer than `totalMs` (plus the time to notice a timer).
 */
export async function runShutdown(steps: ShutdownStep[], totalMs: number, log: ShutdownLog, now: () => number = Date.now): Promise<ShutdownReport> {
  const plan = planShutdown(now(), totalMs);
  const outcomes: StepOutcome[] = [];
  for (const { phase } of SHUTDOWN_PHASES) {
    const deadline = plan.deadlines[phase];
    const inPhase = steps.filter((s) => s.phase === phase);
    await Promise.all(
      inPhase.map(async (step) => {
        const started = now();
        const outcome = await settleBy(() => step.run(deadline), deadline - started);
        const ms = now() - started;
        outcomes.push({ name: step.name, phase, outcome: outcome.kind, ms });
        if (outcome.kind === 'abandoned')
          log.warn({ step: step.name, phase, waitedMs: ms, consequence: step.ifAbandoned }, `shutdown: stopped waiting for ${step.name}`);
        else if (outcome.kind === 'failed')
          log.error({ step: step.name, phase, err: errorText(outcome.error), consequence: step.ifAbandoned }, `shutdown: ${step.name} failed`);
      }),
    );
  }
  return { totalMs: now() - plan.startedAt, steps: outcomes };
}

/** Waits for `run()` at most `ms` (it may throw synchronously or reject: both are 'failed'). */
async function settleBy(run: () => Promise<unknown>, ms: number): Promise<{ kind: 'done' } | { kind: 'abandoned' } | { kind: 'failed'; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ kind: 'abandoned' }>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'abandoned' }), Math.max(0, ms));
  });
  try {
    const work = Promise.resolve()
      .then(run)
      .then(
        () => ({ kind: 'done' }) as const,
        (error: unknown) => ({ kind: 'failed', error }) as const,
      );
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
