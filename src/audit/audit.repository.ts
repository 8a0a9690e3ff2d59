import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ActorKind, AuditEventEntity } from './audit-event.entity';

export interface AuditEntry {
  actor: string;
  actorKind: ActorKind;
  action: string;
  workflow?: string | null;
  segment?: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditQuery {
  workflow?: string;
  /** Only entries of these workflows (a scoped token's); entries of no workflow are left out. */
  workflows?: readonly string[];
  segment?: string;
  action?: string;
  actor?: string;
  from?: Date;
  to?: Date;
  limit: number;
  beforeId?: string;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Appends one entry, inside the caller's transaction when one is given. */
  async append(entry: AuditEntry, tx?: EntityManager): Promise<AuditEventEntity> {
    const manager = tx ?? this.dataSource.manager;
    const rows: AuditEventEntity[] = await manager.query(
      `INSERT INTO audit_events (actor, actor_kind, action, workflow, segment, reason, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, at, actor, actor_kind AS "actorKind", action, workflow, segment, reason, details`,
      [entry.actor, entry.actorKind, entry.action, entry.workflow ?? null, entry.segment ?? null, entry.reason ?? null, entry.details ?? {}],
    );
    return rows[0];
  }

  /** Steps up taken since a time (by the controller or a person), with the stage each went into. */
  async promotionsSince(since: Date): Promise<Array<{ workflow: string; segment: string; toStage: string }>> {
    return this.dataSource.query(
      `SELECT workflow, segment, details->'to'->>'stage' AS "toStage" FROM audit_events WHERE action = 'stage.promoted' AND at >= $1 ORDER BY id`,
      [since],
    );
  }

  async find(q: AuditQuery): Promise<AuditEventEntity[]> {
    const qb = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(q.limit);
    if (q.workflow) qb.andWhere('a.workflow = :workflow', { workflow: q.workflow });
    if (q.workflows) qb.andWhere('a.workflow = ANY(:scope)', { scope: [...q.workflows] });
    if (q.segment) qb.andWhere('a.segment = :segment', { segment: q.segment });
    if (q.action) qb.andWhere('a.action LIKE :action', { action: q.action.endsWith('*') ? `${q.action.slice(0, -1)}%` : q.action });
    if (q.actor) qb.andWhere('a.actor = :actor', { actor: q.actor });
    if (q.from) qb.andWhere('a.at >= :from', { from: q.from });
    if (q.to) qb.andWhere('a.at < :to', { to: q.to });
    if (q.beforeId) qb.andWhere('a.id < :beforeId', { beforeId: q.beforeId });
    return qb.getMany();
  }
}
