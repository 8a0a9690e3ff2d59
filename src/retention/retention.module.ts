import { Module } from '@nestjs/common';
import { WorkflowsModule } from '../workflows/workflows.module';
import { RetentionController } from './retention.controller';
import { RetentionRepository } from './retention.repository';
import { RetentionService } from './retention.service';

@Module({ imports: [WorkflowsModule], controllers: [RetentionController], providers: [RetentionRepository, RetentionService], exports: [RetentionService] })
export class RetentionModule {}
