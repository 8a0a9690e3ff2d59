import { Global, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Logger } from 'pino';
import { LOGGER } from '../common/logger';
import { checkMigrations, dataSourceOptions } from './data-source';

/** PostgreSQL through TypeORM; refuses to start on a schema that is behind the code. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: AppConfig, logger: Logger) => ({
        ...dataSourceOptions(config.database, config.instanceId, logger.child({ component: 'database' })),
        // Start-up must not spin for minutes on a database that is down: fail and say so.
        retryAttempts: 3,
        retryDelay: 1000,
      }),
    }),
  ],
})
export class DatabaseModule implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await checkMigrations(this.dataSource, this.config.database.migrationsCheck);
  }
}
