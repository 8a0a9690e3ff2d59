import { Global, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../common/logger';
import { AuditRepository } from './audit.repository';

@Global()
@Module({ providers: [AuditRepository], exports: [AuditRepository] })
export class AuditModule implements OnApplicationBootstrap {
  constructor(
    private readonly audit: AuditRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Says so at every start when the service's own user could rewrite the audit log (a simple, one-user install). */
  async onApplicationBootstrap(): Promise<void> {
    const { canAlter, user, owner } = await this.audit.connectedUserCanAlterLog();
    if (canAlter) {
      this.logger.warn(
        { component: 'audit', user, owner },
        'the audit log is append-only for every role but this one: the service connects as the schema owner (or a superuser), which can turn its triggers off; run the service as a runtime role (README, "Database roles")',
      );
    }
  }
}
