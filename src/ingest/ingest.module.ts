import { Module } from '@nestjs/common';
import { ComparisonModule } from '../comparison/comparison.module';
import { JobQueueModule } from '../inference/job-queue.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { DlqPublisher } from './dlq.publisher';
import { IngestConsumer } from './ingest.consumer';
import { IngestRepository } from './ingest.repository';
import { IngestService } from './ingest.service';

@Module({
  imports: [WorkflowsModule, ComparisonModule, JobQueueModule],
  providers: [IngestRepository, IngestService, DlqPublisher, IngestConsumer],
  exports: [IngestService, IngestConsumer, IngestRepository],
})
export class IngestModule {}
