import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ActorKind, AuditEventEntity } from './audit-event.entity';
import type { StoredAuditEntry } from './domain/audit-chain';

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

  /**
   * Entries after an id, oldest first, as the hash chain reads them: every field rendered by the
   * database exactly as the chain trigger hashed it (the time in UTC with microseconds, details as jsonb text).
   */
  async chainPage(afterId: string | null, limit: number): Promise<StoredAuditEntry[]> {
    return this.dataSource.query(
      `SELECT id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, actor_kind AS "actorKind", action,
              workflow, segment, reason, details::text AS details, prev_hash AS "prevHash", hash
         FROM audit_events WHERE ($1::bigint IS NULL OR id > $1::bigint) ORDER BY audit_events.id LIMIT $2`,
      [afterId, limit],
    );
  }

  /**
   * Whether the connected user could turn the log's triggers off: a superuser, or the owner of
   * audit_events (or a member of the owner's role). Only then are its entries not append-only for it.
   */
  async connectedUserCanAlterLog(): Promise<{ canAlter: boolean; user: string; owner: string }> {
    const [row] = await this.dataSource.query(
      `SELECT current_user AS "user", pg_get_userbyid(c.relowner) AS owner,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role(current_user, c.relowner, 'MEMBER') AS "canAlter"
         FROM pg_class c WHERE c.oid = to_regclass('audit_events')`,
    );
    return row ?? { canAlter: false, user: '', owner: '' };
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
