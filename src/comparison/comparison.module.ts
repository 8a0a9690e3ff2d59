import { Module } from '@nestjs/common';
import { WorkflowsModule } from '../workflows/workflows.module';
import { ComparisonRepository } from './comparison.repository';
import { ComparisonService } from './comparison.service';
import { RollupRepository } from './rollup.repository';

@Module({
  imports: [WorkflowsModule],
  providers: [ComparisonRepository, ComparisonService, RollupRepository],
  exports: [ComparisonService, RollupRepository],
})
export class ComparisonModule {}
