import { Module } from '@nestjs/common';
import { WorkflowRegistry } from './workflow-registry.service';
import { WorkflowRepository } from './workflow.repository';
import { WorkflowsController } from './workflows.controller';

@Module({ controllers: [WorkflowsController], providers: [WorkflowRepository, WorkflowRegistry], exports: [WorkflowRegistry, WorkflowRepository] })
export class WorkflowsModule {}
