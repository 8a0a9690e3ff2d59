import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { FlagReader } from '../flags/flag-reader';
import { FLAG_READER } from '../flags/flags.module';
import { RunnerService } from '../inference/runner.service';
import { KafkaService } from '../kafka/kafka.service';
import { Readiness, readiness } from './domain/readiness';
import { CheckResult, timedCheck } from './domain/timed-check';

export type { CheckResult } from './domain/timed-check';

export interface HealthReport {
  status: 'up' | 'degraded' | 'down';
  instance: string;
  checks: { postgres: CheckResult; kafka: CheckResult; unleash: CheckResult; model: CheckResult };
}

/**
 * What /health reports. PostgreSQL down makes the service down (nothing can be stored);
 * Kafka, Unleash or the model down make it degraded: it keeps what it has and says so.
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: KafkaService,
    private readonly runner: RunnerService,
    @Inject(FLAG_READER) private readonly flags: FlagReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get instanceId(): string {
    return this.config.instanceId;
  }

  /** Whether this instance should get traffic (/health/ready); no Kafka, Unleash or model call. */
  async readiness(): Promise<Readiness & { instance: string }> {
    const postgres = await timedCheck(async () => {
      await this.dataSource.query('SELECT 1');
    });
    const r = readiness({ postgresError: postgres.status === 'up' ? null : (postgres.detail ?? 'down'), flagsLoaded: this.flags.ready() });
    return { ...r, instance: this.config.instanceId };
  }

  async report(): Promise<HealthReport> {
    const [postgres, kafka, unleash] = await Promise.all([
      timedCheck(async () => {
        await this.dataSource.query('SELECT 1');
      }),
      timedCheck(() => this.kafka.ping()),
      timedCheck(async () => {
        const r = await fetch(`${this.config.unleash.url}/health`, { signal: AbortSignal.timeout(3000) });
        if (!r.ok) throw new Error(`Unleash /health answered ${r.status}`);
        if (!this.flags.ready()) return 'reachable, flag state not loaded yet (items stay in shadow)';
      }),
    ]);
    if (unleash.status === 'down' && this.flags.ready()) {
      unleash.status = 'degraded';
      unleash.detail = `${unleash.detail}; routing on the last known flag state`;
    }
    const circuit = this.runner.circuitState;
    const model: CheckResult =
      circuit === 'closed' ? { status: 'up', detail: 'circuit closed' } : { status: 'degraded', detail: `circuit ${circuit}: items go to humans` };
    const checks = { postgres, kafka, unleash, model };
    const status = postgres.status === 'down' ? 'down' : Object.values(checks).every((c) => c.status === 'up') ? 'up' : 'degraded';
    return { status, instance: this.config.instanceId, checks };
  }
}
