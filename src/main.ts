import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { ConfigError, loadConfig } from './config/app-config';
import { configureHttp } from './common/http/configure-http';
import { migrateBeforeStart } from './database/data-source';
import { createLogger, PinoNestLogger } from './common/logger';

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
  app.enableShutdownHooks();
  configureHttp(app, logger);
  return { app, config, logger };
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
  await app.listen(config.http.port, config.http.host);
  logger.info({ url: `http://${config.http.host}:${config.http.port}` }, 'Understudy is up');
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
