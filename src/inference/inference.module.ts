import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ComparisonModule } from '../comparison/comparison.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { BudgetRepository } from './budget.repository';
import { BudgetService } from './budget.service';
import { DECISION_MODEL } from './decision-model';
import { DecisionWriter } from './decision-writer';
import { DecisionRepository } from './decision.repository';
import { JobQueueModule } from './job-queue.module';
import { OpenAiDecisionModel } from './openai-decision-model';
import { RunnerService } from './runner.service';

// ROUTING_PLANNER and KILL_SWITCH_SOURCE are bound by the composition root (src/port-bindings.module.ts).
@Module({
  imports: [WorkflowsModule, ComparisonModule, JobQueueModule],
  providers: [
    BudgetRepository,
    BudgetService,
    DecisionRepository,
    DecisionWriter,
    RunnerService,
    {
      provide: DECISION_MODEL,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => new OpenAiDecisionModel({ baseUrl: c.model.baseUrl, apiKey: c.model.apiKey, timeoutMs: c.model.timeoutMs }),
    },
  ],
  exports: [RunnerService, JobQueueModule, BudgetService, DecisionWriter],
})
export class InferenceModule {}
