import { Module } from '@nestjs/common';
import { WorkflowsModule } from '../workflows/workflows.module';
import { ComparisonRepository } from './comparison.repository';
import { ComparisonService } from './comparison.service';
import { EvidenceRepository } from './evidence.repository';
import { RollupReader } from './rollup-reader';
import { RollupRepository } from './rollup.repository';

@Module({
  imports: [WorkflowsModule],
  providers: [ComparisonRepository, ComparisonService, RollupRepository, RollupReader, EvidenceRepository],
  exports: [ComparisonService, RollupRepository, RollupReader, EvidenceRepository],
})
export class ComparisonModule {}
