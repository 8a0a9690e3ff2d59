import { Module } from '@nestjs/common';
import { ComparisonModule } from '../comparison/comparison.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { ReportsController } from './reports.controller';
import { ReportsRepository } from './reports.repository';
import { ReportsService } from './reports.service';

@Module({
  imports: [WorkflowsModule, ComparisonModule],
  controllers: [ReportsController],
  providers: [ReportsRepository, ReportsService],
  exports: [ReportsService],
})
export class ReportsModule {}
