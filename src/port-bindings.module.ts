import { Global, Module } from '@nestjs/common';
import type { AppConfig } from './config/app-config';
import { APP_CONFIG } from './config/config.module';
import type { FlagReader } from './flags/flag-reader';
import { FLAG_READER } from './flags/flags.module';
import type { KillSwitchSource } from './inference/domain/job-pipeline';
import { ROUTING_PLANNER } from './inference/routing-planner';
import { KILL_SWITCH_SOURCE } from './inference/runner.service';
import { SEGMENT_REGISTRY, type SegmentRegistry } from './ingest/segment-registry';
import { PUBLISH_GUARD } from './outbox/publish-guard';
import { FlagSnapshotRepository } from './rollout/flag-snapshot.repository';
import { RolloutModule } from './rollout/rollout.module';
import { SegmentRepository } from './rollout/segment.repository';
import { RoutingPublishGuard } from './routing/routing-publish-guard';
import { RoutingModule } from './routing/routing.module';
import { RoutingService } from './routing/routing.service';
import { SegmentStateCache } from './routing/segment-state.cache';
import { STORED_ROUTING_STATE, type StoredRoutingState } from './routing/stored-routing-state';

/**
 * The composition root's port bindings: a feature declares the ports it needs and another implements
 * them, and only this module knows both, so neither feature imports the other's module. The outbox
 * depends on no feature (routing implements its publish guard), inference calls routing through the
 * planner port, and routing reads the safety controls rollout stores through a port (rollout depends
 * on routing, never the reverse); rollout owns the segments ingest registers.
 */
@Global()
@Module({
  imports: [RoutingModule, RolloutModule],
  providers: [
    { provide: ROUTING_PLANNER, useExisting: RoutingService },
    {
      // The flag, or the kill switch stored in PostgreSQL (set while Unleash did not answer): either stops the calls.
      provide: KILL_SWITCH_SOURCE,
      inject: [FLAG_READER, SegmentStateCache],
      useFactory: (flags: FlagReader, stored: SegmentStateCache): KillSwitchSource => ({
        killSwitch: async () => flags.killSwitch() || (await stored.killSwitch()),
      }),
    },
    { provide: PUBLISH_GUARD, useExisting: RoutingPublishGuard },
    {
      provide: STORED_ROUTING_STATE,
      inject: [SegmentRepository, FlagSnapshotRepository, APP_CONFIG],
      useFactory: (segments: SegmentRepository, flags: FlagSnapshotRepository, config: AppConfig): StoredRoutingState => ({
        killSwitch: (tx) => flags.isEnabled(config.unleash.killSwitchFlag, tx),
        segments: (keys, tx) => segments.routingStates(keys, tx),
      }),
    },
    {
      provide: SEGMENT_REGISTRY,
      inject: [SegmentRepository],
      useFactory: (segments: SegmentRepository): SegmentRegistry => ({
        ensure: (tx, keys) => segments.ensureSegments(tx, keys),
        lockAndList: (tx, workflow) => segments.lockSegmentsOf(tx, workflow),
      }),
    },
  ],
  exports: [ROUTING_PLANNER, KILL_SWITCH_SOURCE, PUBLISH_GUARD, STORED_ROUTING_STATE, SEGMENT_REGISTRY],
})
export class PortBindingsModule {}
