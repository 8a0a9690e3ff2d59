import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { WorkflowDefinition, WorkflowRole } from './domain/workflow-definition';
import { WorkflowVersionEntity } from './workflow-version.entity';

@Injectable()
export class WorkflowRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: EntityManager) {
    return (tx ?? this.dataSource.manager).getRepository(WorkflowVersionEntity);
  }

  all(tx?: EntityManager): Promise<WorkflowVersionEntity[]> {
    return this.repo(tx).find({ order: { workflow: 'ASC', version: 'ASC' } });
  }

  versionsOf(workflow: string): Promise<WorkflowVersionEntity[]> {
    return this.repo().find({ where: { workflow }, order: { version: 'ASC' } });
  }

  get(workflow: string, version: number, tx?: EntityManager): Promise<WorkflowVersionEntity | null> {
    return this.repo(tx).findOne({ where: { workflow, version } });
  }

  async insert(def: WorkflowDefinition, hash: string, role: WorkflowRole, createdBy: string, tx: EntityManager): Promise<WorkflowVersionEntity> {
    if (role === 'champion') {
      await tx.query(`UPDATE workflow_versions SET role = 'retired' WHERE workflow = $1 AND role = 'champion'`, [def.name]);
    }
    return this.repo(tx).save(
      this.repo(tx).create({
        workflow: def.name,
        version: def.version,
        definition: def,
        definitionHash: hash,
        model: def.model.name,
        promptVersion: def.prompt.version,
        role,
        createdBy,
      }),
    );
  }

  async setRole(workflow: string, version: number, role: WorkflowRole, tx: EntityManager): Promise<void> {
    if (role === 'champion') {
      await tx.query(`UPDATE workflow_versions SET role = 'retired' WHERE workflow = $1 AND role = 'champion' AND version <> $2`, [workflow, version]);
    }
    await tx.query(`UPDATE workflow_versions SET role = $3 WHERE workflow = $1 AND version = $2`, [workflow, version, role]);
  }

  /** Serialises workflow changes across instances (start-up sync and API writes). */
  async lock(tx: EntityManager): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('understudy:workflows', 0))`);
  }
}
