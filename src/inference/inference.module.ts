import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ComparisonModule } from '../comparison/comparison.module';
import { FLAG_READER } from '../flags/flags.module';
import { IngestModule } from '../ingest/ingest.module';
import { RoutingModule } from '../routing/routing.module';
import { RoutingService } from '../routing/routing.service';
import { WorkflowsModule } from '../workflows/workflows.module';
import { BudgetService } from './budget.service';
import { DECISION_MODEL } from './decision-model';
import { DecisionWriter } from './decision-writer';
import { JobRepository } from './job.repository';
import { OpenAiDecisionModel } from './openai-decision-model';
import { ROUTING_PLANNER } from './routing-planner';
import { KILL_SWITCH_SOURCE, RunnerService } from './runner.service';

@Module({
  imports: [WorkflowsModule, ComparisonModule, IngestModule, RoutingModule],
  providers: [
    JobRepository,
    BudgetService,
    DecisionWriter,
    RunnerService,
    { provide: ROUTING_PLANNER, useExisting: RoutingService },
    { provide: KILL_SWITCH_SOURCE, useExisting: FLAG_READER },
    {
      provide: DECISION_MODEL,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => new OpenAiDecisionModel({ baseUrl: c.model.baseUrl, apiKey: c.model.apiKey, timeoutMs: c.model.timeoutMs }),
    },
  ],
  exports: [RunnerService, JobRepository, BudgetService, DecisionWriter],
})
export class InferenceModule {}
