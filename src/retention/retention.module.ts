import { Module } from '@nestjs/common';
import { InferenceModule } from '../inference/inference.module';
import { IngestModule } from '../ingest/ingest.module';
import { OutboxModule } from '../outbox/outbox.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { RetentionController } from './retention.controller';
import { RetentionRepository } from './retention.repository';
import { RetentionService } from './retention.service';

@Module({
  imports: [WorkflowsModule, IngestModule, InferenceModule, OutboxModule],
  controllers: [RetentionController],
  providers: [RetentionRepository, RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
