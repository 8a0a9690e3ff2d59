import { Module } from '@nestjs/common';
import { OutboxRelay } from './outbox.relay';
import { OutboxRepository } from './outbox.repository';

/**
 * The outbox: the one owner of its table, and the relay that publishes it. It depends on no
 * feature; the publish guard (PUBLISH_GUARD) it needs is bound in the composition root.
 */
@Module({
  providers: [OutboxRepository, OutboxRelay],
  exports: [OutboxRepository, OutboxRelay],
})
export class OutboxModule {}
