import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Logger } from 'pino';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/logger.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ComparisonModule } from './comparison/comparison.module';
import { DatabaseModule } from './database/database.module';
import { FlagsModule } from './flags/flags.module';
import { HealthModule } from './health/health.module';
import { InferenceModule } from './inference/inference.module';
import { IngestModule } from './ingest/ingest.module';
import { KafkaModule } from './kafka/kafka.module';
import { MetricsModule } from './metrics/metrics.module';
import { OutboxModule } from './outbox/outbox.module';
import { PortBindingsModule } from './port-bindings.module';
import { ReportsModule } from './reports/reports.module';
import { RetentionModule } from './retention/retention.module';
import { RolloutModule } from './rollout/rollout.module';
import { RoutingModule } from './routing/routing.module';
import { WorkflowsModule } from './workflows/workflows.module';

/** The whole service; which loops run (ingest, runner, relay, controller) is configuration. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule.forRoot(logger),
        DatabaseModule,
        MetricsModule,
        KafkaModule,
        AuditModule,
        AuthModule,
        FlagsModule,
        WorkflowsModule,
        ComparisonModule,
        IngestModule,
        OutboxModule,
        RoutingModule,
        PortBindingsModule,
        InferenceModule,
        HealthModule,
        RolloutModule,
        ReportsModule,
        ScheduleModule.forRoot(),
        RetentionModule,
      ],
    };
  }
}
