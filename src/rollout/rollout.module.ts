import { Module } from '@nestjs/common';
import { ComparisonModule } from '../comparison/comparison.module';
import { InferenceModule } from '../inference/inference.module';
import { OutboxModule } from '../outbox/outbox.module';
import { RoutingModule } from '../routing/routing.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { AlertRepository } from './alert.repository';
import { AlertService } from './alert.service';
import { ControllerStatusRepository } from './controller-status.repository';
import { FlagSnapshotRepository } from './flag-snapshot.repository';
import { LeaderService } from './leader.service';
import { RereviewRepository } from './rereview.repository';
import { RolloutController } from './rollout-controller.service';
import { RolloutService } from './rollout.service';
import { SegmentRepository } from './segment.repository';
import { SegmentDecisions } from './segment-decisions';
import { SegmentsController } from './segments.controller';

@Module({
  imports: [WorkflowsModule, RoutingModule, InferenceModule, ComparisonModule, OutboxModule],
  controllers: [SegmentsController],
  providers: [
    SegmentRepository,
    FlagSnapshotRepository,
    RereviewRepository,
    ControllerStatusRepository,
    LeaderService,
    AlertRepository,
    AlertService,
    SegmentDecisions,
    RolloutController,
    RolloutService,
  ],
  exports: [SegmentRepository, FlagSnapshotRepository, RolloutService, RolloutController, LeaderService, AlertService],
})
export class RolloutModule {}
