import { Module } from '@nestjs/common';
import { JOB_QUEUE } from './job-queue';
import { JobRepository } from './job.repository';
import { PostgresJobQueue } from './postgres-job-queue';

/**
 * The AI job queue on its own, so that ingest can queue jobs without depending on the runner:
 * ingest → inference's queue, never back.
 */
@Module({
  providers: [JobRepository, PostgresJobQueue, { provide: JOB_QUEUE, useExisting: PostgresJobQueue }],
  exports: [JobRepository, PostgresJobQueue, JOB_QUEUE],
})
export class JobQueueModule {}
