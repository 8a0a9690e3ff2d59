import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { RoutingPublishGuard } from './routing-publish-guard';
import { RoutingRepository } from './routing.repository';
import { RoutingService } from './routing.service';
import { SegmentStateCache } from './segment-state.cache';

/** Routing: what leaves Understudy for each AI decision. STORED_ROUTING_STATE is bound in app.module.ts. */
@Module({
  imports: [WorkflowsModule, OutboxModule],
  providers: [RoutingService, RoutingRepository, SegmentStateCache, RoutingPublishGuard],
  exports: [RoutingService, SegmentStateCache, RoutingPublishGuard],
})
export class RoutingModule {}
