import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LOGGER } from '../common/logger';
import { AdvisoryLeader } from './advisory-leader';

/** The controller's leadership among all instances (see AdvisoryLeader), closed with the module. */
@Injectable()
export class LeaderService extends AdvisoryLeader implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(LOGGER) logger: Logger) {
    super({ databaseUrl: config.database.url, instanceId: config.instanceId }, logger);
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }
}
