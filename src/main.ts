import 'reflect-metadata';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'pino';
import { AppModule } from './app.module';
import { TokenService } from './auth/token.service';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { configureHttp } from './common/http/configure-http';
import { migrateBeforeStart } from './database/data-source';
import { createLogger, PinoNestLogger } from './common/logger';
import { DecisionWriter } from './inference/decision-writer';
import { RunnerService } from './inference/runner.service';
import { IngestConsumer } from './ingest/ingest.consumer';
import { KafkaService } from './kafka/kafka.service';
import { OutboxRelay } from './outbox/outbox.relay';
import { runShutdown, ShutdownStep } from './shutdown/graceful-shutdown';

/** Builds the configured application (also used by tests, the demo and benchmarks). */
export async function createApp(env: Record<string, string | undefined>) {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel, { instance: config.instanceId });
  if (config.database.migrationsCheck === 'run') {
    const applied = await migrateBeforeStart(config.database, config.instanceId);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: false,
  });
  const tokens = app.get(TokenService);
  configureHttp(app, logger, (authorization) => tokens.tokenIdOf(authorization));
  return { app, config, logger };
}

/**
 * What a graceful stop waits for, phase by phase (shutdown/domain/shutdown-plan.ts gives each phase
 * its share of SHUTDOWN_TIMEOUT_MS), and what giving up each wait leaves behind: never a lost item,
 * decision or routing event. Nest's own shutdown hooks (app.close) come last, once nothing waits on Kafka.
 */
export function shutdownSteps(app: NestExpressApplication): ShutdownStep[] {
  const kafka = app.get(KafkaService);
  return [
    {
      phase: 'stop-intake',
      name: 'the Kafka consumer to stop and leave its group',
      run: () => app.get(IngestConsumer).stop(),
      ifAbandoned: 'offsets not committed yet are redelivered to the group, and what was already stored is not stored twice',
    },
    {
      phase: 'stop-intake',
      name: 'the model calls under way',
      run: (deadline) => app.get(RunnerService).stop(deadline),
      ifAbandoned: 'the jobs of calls still out stay claimed until JOB_LEASE_MS, then another instance calls the model again',
    },
    {
      phase: 'flush-decisions',
      name: 'the AI decisions to be written to PostgreSQL',
      run: () => app.get(DecisionWriter).drain(),
      ifAbandoned: 'their jobs stay claimed until JOB_LEASE_MS, then another instance calls the model again',
    },
    {
      phase: 'release-outbox',
      name: 'the outbox publishes under way',
      run: () => app.get(OutboxRelay).stop(),
      ifAbandoned: 'their rows stay unsent in the outbox, and the next relay to poll publishes them',
    },
    {
      phase: 'disconnect-kafka',
      name: 'the Kafka clients to disconnect',
      run: (deadline) => kafka.close(deadline - Date.now()),
      ifAbandoned: 'the brokers see the connections close with the process',
    },
    {
      phase: 'close',
      name: 'HTTP, the flag client, the controller lock and the database pool to close',
      run: () => app.close(),
      ifAbandoned: 'the connections close with the process',
    },
  ];
}

/**
 * SIGTERM (an orchestrator) or SIGINT (Ctrl-C) stops the service within SHUTDOWN_TIMEOUT_MS, with
 * exit code 0, whatever Kafka does. A second signal changes nothing: the first stop is bounded.
 */
export function exitGracefullyOnSignals(app: NestExpressApplication, config: AppConfig, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'already stopping');
      return;
    }
    stopping = true;
    const budgetMs = config.shutdown.timeoutMs;
    logger.info({ signal, budgetMs }, 'stopping');
    // Every step is bounded by its phase; this only fires if one ignored its bound.
    setTimeout(() => {
      logger.error({ budgetMs }, 'stopping overran its budget; exiting now');
      process.exit(1);
    }, budgetMs + 2000).unref();
    void runShutdown(shutdownSteps(app), budgetMs, logger).then((report) => {
      logger.info({ signal, tookMs: report.totalMs, steps: report.steps }, 'stopped');
      process.exit(0);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal);
}

async function main(): Promise<void> {
  let created: Awaited<ReturnType<typeof createApp>>;
  try {
    created = await createApp(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const { app, config, logger } = created;
  exitGracefullyOnSignals(app, config, logger);
  await app.listen(config.http.port, config.http.host);
  // Keep idle connections longer than a load balancer's idle timeout (60 s on most), so that the
  // server never closes a connection a client is about to reuse (the client would see "other side
  // closed" on a request it had already sent). Headers must be allowed a little longer still.
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  logger.info({ url: `http://${config.http.host}:${config.http.port}` }, 'Understudy is up');
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
