import { Module } from '@nestjs/common';
import { WorkflowRegistry } from './workflow-registry.service';
import { WorkflowRepository } from './workflow.repository';

@Module({ providers: [WorkflowRepository, WorkflowRegistry], exports: [WorkflowRegistry, WorkflowRepository] })
export class WorkflowsModule {}
