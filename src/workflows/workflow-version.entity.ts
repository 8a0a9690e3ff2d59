import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { WorkflowDefinition, WorkflowRole } from './domain/workflow-definition';

@Entity({ name: 'workflow_versions' })
export class WorkflowVersionEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  workflow!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'jsonb' })
  definition!: WorkflowDefinition;

  @Column({ name: 'definition_hash', type: 'text' })
  definitionHash!: string;

  @Column({ type: 'text' })
  model!: string;

  @Column({ name: 'prompt_version', type: 'text' })
  promptVersion!: string;

  @Column({ type: 'text' })
  role!: WorkflowRole;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
