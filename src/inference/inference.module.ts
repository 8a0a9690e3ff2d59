import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ComparisonModule } from '../comparison/comparison.module';
import type { FlagReader } from '../flags/flag-reader';
import { FLAG_READER } from '../flags/flags.module';
import { RoutingModule } from '../routing/routing.module';
import { RoutingService } from '../routing/routing.service';
import { SegmentStateCache } from '../routing/segment-state.cache';
import { WorkflowsModule } from '../workflows/workflows.module';
import { BudgetRepository } from './budget.repository';
import { BudgetService } from './budget.service';
import { DECISION_MODEL } from './decision-model';
import { DecisionWriter } from './decision-writer';
import { DecisionRepository } from './decision.repository';
import { JobQueueModule } from './job-queue.module';
import { OpenAiDecisionModel } from './openai-decision-model';
import { ROUTING_PLANNER } from './routing-planner';
import type { KillSwitchSource } from './domain/job-pipeline';
import { KILL_SWITCH_SOURCE, RunnerService } from './runner.service';

@Module({
  imports: [WorkflowsModule, ComparisonModule, JobQueueModule, RoutingModule],
  providers: [
    BudgetRepository,
    BudgetService,
    DecisionRepository,
    DecisionWriter,
    RunnerService,
    { provide: ROUTING_PLANNER, useExisting: RoutingService },
    {
      // The flag, or the kill switch stored in PostgreSQL (set while Unleash did not answer): either stops the calls.
      provide: KILL_SWITCH_SOURCE,
      inject: [FLAG_READER, SegmentStateCache],
      useFactory: (flags: FlagReader, stored: SegmentStateCache): KillSwitchSource => ({ killSwitch: async () => flags.killSwitch() || (await stored.killSwitch()) }),
    },
    {
      provide: DECISION_MODEL,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => new OpenAiDecisionModel({ baseUrl: c.model.baseUrl, apiKey: c.model.apiKey, timeoutMs: c.model.timeoutMs }),
    },
  ],
  exports: [RunnerService, JobQueueModule, BudgetService, DecisionWriter],
})
export class InferenceModule {}
