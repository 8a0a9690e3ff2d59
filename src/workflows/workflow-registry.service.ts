import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { DomainError, ErrorCode } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { WorkflowDefinition, WorkflowRole, WorkflowVersion, parseWorkflowDefinition } from './domain/workflow-definition';
import { definitionHash, parseWorkflowFile } from './domain/workflow-file';
import { unpricedCostBudget } from './domain/price-check';
import { ActiveWorkflow, activeWorkflowsOf, fileVersionRefusal, newVersionRefusal, roleChangeRefusal } from './domain/versions';
import { WorkflowRepository } from './workflow.repository';
import { WorkflowVersionEntity } from './workflow-version.entity';

const REFRESH_MS = 5000;

/**
 * The workflows in force: loaded from the workflows file at start, kept in the database with
 * their versions, and cached here (refreshed every few seconds so that a version created
 * through the API on one instance reaches the others).
 */
@Injectable()
export class WorkflowRegistry implements OnModuleInit, OnModuleDestroy {
  private active = new Map<string, ActiveWorkflow>();
  private versions = new Map<string, WorkflowVersion>();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: WorkflowRepository,
    private readonly audit: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'workflows' });
  }

  async onModuleInit(): Promise<void> {
    await this.syncFromFile(resolve(this.config.workflowsFile));
    await this.refresh();
    // A cost budget the price table cannot count would silently stop working: refuse to start.
    const unpriced = this.activeWorkflows()
      .flatMap((a) => [a.champion, ...a.challengers])
      .map((v) => unpricedCostBudget(v.definition, this.config.model.prices))
      .filter((p): p is string => p !== null);
    if (unpriced.length > 0) throw new DomainError(ErrorCode.InvalidWorkflow, unpriced.join('; '));
    this.timer = setInterval(() => {
      this.refresh().catch((e) => this.log.error({ err: e }, 'workflow refresh failed'));
    }, REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Stores every version of the file the database does not have; a changed stored version stops the start. */
  async syncFromFile(path: string): Promise<void> {
    const text = await readFile(path, 'utf8').catch((e) => {
      throw new DomainError(ErrorCode.InvalidWorkflow, `cannot read the workflows file ${path}: ${(e as Error).message}`);
    });
    const fileVersions = parseWorkflowFile(text, path);
    await this.dataSource.transaction(async (tx) => {
      await this.repo.lock(tx);
      for (const v of fileVersions) {
        const existing = await this.repo.get(v.definition.name, v.definition.version, tx);
        if (existing) {
          const refused = fileVersionRefusal(existing.definitionHash, v.hash, path, v.definition.name, v.definition.version);
          if (refused) throw refused;
          continue;
        }
        await this.repo.insert(v.definition, v.hash, v.role, 'workflows-file', tx);
        await this.audit.append(
          {
            actor: 'workflows-file',
            actorKind: 'system',
            action: 'workflow.version-created',
            workflow: v.definition.name,
            reason: `loaded from ${path}`,
            details: { version: v.definition.version, role: v.role, model: v.definition.model.name, promptVersion: v.definition.prompt.version },
          },
          tx,
        );
        this.log.info({ workflow: v.definition.name, version: v.definition.version, role: v.role }, 'stored workflow version from file');
      }
    });
  }

  async refresh(): Promise<void> {
    const rows = await this.repo.all();
    this.load(rows);
  }

  private load(rows: WorkflowVersionEntity[]): void {
    const versions = new Map<string, WorkflowVersion>();
    for (const r of rows) {
      versions.set(`${r.workflow}@${r.version}`, {
        workflow: r.workflow,
        version: r.version,
        role: r.role,
        definition: r.definition,
        definitionHash: r.definitionHash,
      });
    }
    this.versions = versions;
    this.active = activeWorkflowsOf(versions.values());
  }

  /** The champion and challengers of a workflow, or undefined when the workflow is unknown. */
  activeOf(workflow: string): ActiveWorkflow | undefined {
    return this.active.get(workflow);
  }

  activeWorkflows(): ActiveWorkflow[] {
    return [...this.active.values()];
  }

  version(workflow: string, version: number): WorkflowVersion | undefined {
    return this.versions.get(`${workflow}@${version}`);
  }

  allVersions(): WorkflowVersion[] {
    return [...this.versions.values()];
  }

  /** Stores a new version (admin through the API). Its number must be above every stored one. */
  async createVersion(raw: unknown, role: WorkflowRole, actor: string, reason: string): Promise<WorkflowVersion> {
    const def: WorkflowDefinition = (() => {
      try {
        return parseWorkflowDefinition(raw, 'definition');
      } catch (e) {
        throw new DomainError(ErrorCode.Validation, (e as Error).message);
      }
    })();
    const unpriced = unpricedCostBudget(def, this.config.model.prices);
    if (unpriced) throw new DomainError(ErrorCode.Validation, unpriced);
    const hash = definitionHash(def);
    await this.dataSource.transaction(async (tx) => {
      await this.repo.lock(tx);
      const rows = (await this.repo.all(tx)).filter((r) => r.workflow === def.name);
      const refused = newVersionRefusal(
        rows.map((r) => r.version),
        def.name,
        def.version,
        role,
      );
      if (refused) throw refused;
      await this.repo.insert(def, hash, role, actor, tx);
      await this.audit.append(
        {
          actor,
          actorKind: 'person',
          action: 'workflow.version-created',
          workflow: def.name,
          reason,
          details: { version: def.version, role, model: def.model.name, promptVersion: def.prompt.version },
        },
        tx,
      );
    });
    await this.refresh();
    return this.version(def.name, def.version)!;
  }

  /** Makes a stored version champion, challenger (runs in shadow) or retired. */
  async setRole(workflow: string, version: number, role: WorkflowRole, actor: string, reason: string): Promise<WorkflowVersion> {
    await this.dataSource.transaction(async (tx) => {
      await this.repo.lock(tx);
      const existing = await this.repo.get(workflow, version, tx);
      if (!existing) throw new DomainError(ErrorCode.NotFound, `version ${version} of ${workflow} was not found`);
      const refused = roleChangeRefusal(workflow, version, existing.role, role);
      if (refused) throw refused;
      await this.repo.setRole(workflow, version, role, tx);
      await this.audit.append(
        { actor, actorKind: 'person', action: 'workflow.role-changed', workflow, reason, details: { version, from: existing.role, to: role } },
        tx,
      );
    });
    await this.refresh();
    return this.version(workflow, version)!;
  }
}

export type { WorkflowRole };
