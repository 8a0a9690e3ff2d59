import { Module } from '@nestjs/common';
import { WorkflowsModule } from '../workflows/workflows.module';
import { ReportsController } from './reports.controller';
import { ReportsRepository } from './reports.repository';
import { ReportsService } from './reports.service';

@Module({ imports: [WorkflowsModule], controllers: [ReportsController], providers: [ReportsRepository, ReportsService], exports: [ReportsService] })
export class ReportsModule {}
