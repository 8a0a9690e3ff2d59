import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';

export interface RereviewItem {
  id: string;
  itemId: string;
  listedAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  decision: unknown;
  confidence: number | null;
  decidedAt: Date;
  revertAuditId: string;
}

export interface ResolvedRereview {
  id: string;
  workflow: string;
  segment: string;
  itemId: string;
}

/**
 * The re-review list's reads and resolutions: items the AI decided `auto` inside a regressed
 * window, for people to look at again (a revert lists them: SegmentRepository.listForRereview).
 */
@Injectable()
export class RereviewRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** A segment's items, oldest first, at most 1000; `resolved` picks open (false) or resolved (true) ones, undefined both. */
  list(workflow: string, segment: string, resolved?: boolean): Promise<RereviewItem[]> {
    return this.dataSource.query(
      `SELECT r.id::text, r.item_id AS "itemId", r.created_at AS "listedAt", r.resolved_at AS "resolvedAt", r.resolved_by AS "resolvedBy",
              d.decision, d.confidence, rd.created_at AS "decidedAt", r.revert_audit_id::text AS "revertAuditId"
       FROM rereview_items r JOIN routing_decisions rd ON rd.id = r.routing_decision_id JOIN ai_decisions d ON d.id = rd.ai_decision_id
       WHERE r.workflow = $1 AND r.segment = $2 ${resolved === undefined ? '' : resolved ? 'AND r.resolved_at IS NOT NULL' : 'AND r.resolved_at IS NULL'}
       ORDER BY r.id LIMIT 1000`,
      [workflow, segment],
    );
  }

  async openCount(workflow: string, segment: string): Promise<number> {
    const rows = await this.dataSource.query(`SELECT count(*)::int AS n FROM rereview_items WHERE workflow = $1 AND segment = $2 AND resolved_at IS NULL`, [
      workflow,
      segment,
    ]);
    return rows[0].n;
  }

  /** Marks an open item resolved; null when there is no such open item among `workflows` (null: every workflow). */
  async resolve(tx: Tx, id: number, by: string, workflows: readonly string[] | null): Promise<ResolvedRereview | null> {
    const [updated] = await tx.query(
      `UPDATE rereview_items SET resolved_at = now(), resolved_by = $2 WHERE id = $1 AND resolved_at IS NULL AND ($3::text[] IS NULL OR workflow = ANY($3::text[]))
       RETURNING id::text, workflow, segment, item_id AS "itemId"`,
      [id, by, workflows],
    );
    return updated?.[0] ?? null;
  }
}
