import { Module } from '@nestjs/common';
import { WorkflowsModule } from '../workflows/workflows.module';
import { OutboxRelay } from './outbox.relay';
import { RoutingService } from './routing.service';
import { SegmentStateCache } from './segment-state.cache';

@Module({
  imports: [WorkflowsModule],
  providers: [RoutingService, SegmentStateCache, OutboxRelay],
  exports: [RoutingService, SegmentStateCache, OutboxRelay],
})
export class RoutingModule {}
