import { Global, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LOGGER } from '../common/logger';
import { FlagGateway } from './flag-gateway';
import { FlagReader } from './flag-reader';
import { UnleashAdminGateway } from './unleash-admin.gateway';
import { UnleashFlagReader } from './unleash-flag-reader';

export const FLAG_READER = Symbol('FLAG_READER');
export const FLAG_GATEWAY = Symbol('FLAG_GATEWAY');

/**
 * Unleash, the live switch: the reader (unleash-client, local evaluation, backup file) decides
 * each item's stage; the gateway (Admin API) is how the controller writes and reads flags.
 */
@Global()
@Module({
  providers: [
    {
      provide: FLAG_READER,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: AppConfig, logger: Logger): FlagReader => {
        const log = logger.child({ component: 'flags' });
        return new UnleashFlagReader({
          url: config.unleash.url,
          clientToken: config.unleash.clientToken,
          appName: 'understudy',
          instanceId: config.instanceId,
          environment: config.unleash.environment,
          refreshIntervalMs: config.unleash.refreshMs,
          backupPath: config.unleash.backupPath,
          killSwitchFlag: config.unleash.killSwitchFlag,
          logger: {
            info: (msg: string) => log.info(msg),
            warn: (msg: string) => log.warn(msg),
            error: (msg: string) => log.error(msg),
          },
        });
      },
    },
    {
      provide: FLAG_GATEWAY,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): FlagGateway =>
        new UnleashAdminGateway({
          url: config.unleash.url,
          adminToken: config.unleash.adminToken,
          project: config.unleash.project,
          environment: config.unleash.environment,
          killSwitchFlag: config.unleash.killSwitchFlag,
        }),
    },
  ],
  exports: [FLAG_READER, FLAG_GATEWAY],
})
export class FlagsModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(FLAG_READER) private readonly reader: FlagReader) {}

  async onModuleInit(): Promise<void> {
    await (this.reader as UnleashFlagReader).start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reader.close();
  }
}
