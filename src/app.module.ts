import { DynamicModule, Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Logger } from 'pino';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/logger.module';
import { AppConfig } from './config/app-config';
import { APP_CONFIG, ConfigModule } from './config/config.module';
import { ComparisonModule } from './comparison/comparison.module';
import { DatabaseModule } from './database/database.module';
import { FlagsModule } from './flags/flags.module';
import { HealthModule } from './health/health.module';
import { InferenceModule } from './inference/inference.module';
import { IngestModule } from './ingest/ingest.module';
import { KafkaModule } from './kafka/kafka.module';
import { MetricsModule } from './metrics/metrics.module';
import { OutboxModule } from './outbox/outbox.module';
import { PUBLISH_GUARD } from './outbox/publish-guard';
import { ReportsModule } from './reports/reports.module';
import { RetentionModule } from './retention/retention.module';
import { FlagSnapshotRepository } from './rollout/flag-snapshot.repository';
import { RolloutModule } from './rollout/rollout.module';
import { SegmentRepository } from './rollout/segment.repository';
import { RoutingPublishGuard } from './routing/routing-publish-guard';
import { RoutingModule } from './routing/routing.module';
import { STORED_ROUTING_STATE, StoredRoutingState } from './routing/stored-routing-state';
import { WorkflowsModule } from './workflows/workflows.module';

/**
 * Ports bound at the composition root, so that dependencies point one way: the outbox depends on
 * no feature (routing implements its publish guard), and routing reads the safety controls rollout
 * stores through a port (rollout depends on routing, never the reverse).
 */
@Global()
@Module({
  imports: [RoutingModule, RolloutModule],
  providers: [
    { provide: PUBLISH_GUARD, useExisting: RoutingPublishGuard },
    {
      provide: STORED_ROUTING_STATE,
      inject: [SegmentRepository, FlagSnapshotRepository, APP_CONFIG],
      useFactory: (segments: SegmentRepository, flags: FlagSnapshotRepository, config: AppConfig): StoredRoutingState => ({
        killSwitch: (tx) => flags.isEnabled(config.unleash.killSwitchFlag, tx),
        segments: (keys, tx) => segments.routingStates(keys, tx),
      }),
    },
  ],
  exports: [PUBLISH_GUARD, STORED_ROUTING_STATE],
})
class PortsModule {}

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
        InferenceModule,
        HealthModule,
        RolloutModule,
        ReportsModule,
        ScheduleModule.forRoot(),
        RetentionModule,
        PortsModule,
      ],
    };
  }
}
