import { Global, Module } from '@nestjs/common';
import type { FlagReader } from './flags/flag-reader';
import { FLAG_READER } from './flags/flags.module';
import { ROUTING_PLANNER } from './inference/routing-planner';
import { KILL_SWITCH_SOURCE, KillSwitchSource } from './inference/runner.service';
import { RoutingModule } from './routing/routing.module';
import { RoutingService } from './routing/routing.service';
import { SegmentStateCache } from './routing/segment-state.cache';

/**
 * The composition root's port bindings: a feature declares the ports it needs and another implements
 * them, and only this module knows both, so neither feature imports the other's module.
 */
@Global()
@Module({
  imports: [RoutingModule],
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
  ],
  exports: [ROUTING_PLANNER, KILL_SWITCH_SOURCE],
})
export class PortBindingsModule {}
