import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Role } from './domain/token';

export interface TokenRow {
  id: string;
  name: string;
  role: Role;
  tokenPrefix: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** Refused from this instant on; null: never expires. */
  expiresAt: Date | null;
  /** The workflows the token may act on and read; null: every workflow. */
  workflows: string[] | null;
}

const COLUMNS = `id, name, role, token_prefix AS "tokenPrefix", created_by AS "createdBy", created_at AS "createdAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt", workflows`;

/** API tokens, stored as hashes only. */
@Injectable()
export class TokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores a new token, inside the caller's transaction when one is given. */
  async create(
    name: string,
    role: Role,
    hash: string,
    prefix: string,
    createdBy: string,
    expiresAt: Date | null,
    workflows: string[] | null = null,
    tx?: EntityManager,
  ): Promise<TokenRow> {
    const [row] = await (tx ?? this.dataSource.manager).query(
      `INSERT INTO api_tokens (id, name, role, token_hash, token_prefix, created_by, expires_at, workflows) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [randomUUID(), name, role, hash, prefix, createdBy, expiresAt, workflows],
    );
    return row;
  }

  /** The token of that hash unless revoked (an expired one is returned, so it can be refused as expired). */
  async findActiveByHash(hash: string): Promise<TokenRow | null> {
    const rows = await this.dataSource.query(`SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, [hash]);
    return rows[0] ?? null;
  }

  list(): Promise<TokenRow[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at`);
  }

  async revoke(id: string): Promise<TokenRow | null> {
    const [rows] = await this.dataSource.query(`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
    return rows?.[0] ?? null;
  }

  async touch(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  async count(): Promise<number> {
    const [r] = await this.dataSource.query(`SELECT count(*)::int AS n FROM api_tokens WHERE revoked_at IS NULL`);
    return r.n;
  }
}
