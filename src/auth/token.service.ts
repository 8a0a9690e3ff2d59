import { Injectable } from '@nestjs/common';
import { AuditRepository } from '../audit/audit.repository';
import { DomainError, ErrorCode } from '../common/domain-error';
import { bearerToken, expiryOf, generateToken, hashToken, Role, tokenRefusal } from './domain/token';
import { parseWorkflowScope } from './domain/workflow-scope';
import { TokenRepository, TokenRow } from './token.repository';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** The workflows it may act on and read; null: every workflow. */
  workflows: string[] | null;
}

const CACHE_MS = 5000;

@Injectable()
export class TokenService {
  private readonly cache = new Map<string, { row: TokenRow | null; at: number }>();

  constructor(
    private readonly tokens: TokenRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** The principal of a presented token, or null (unknown, revoked or expired). */
  async authenticate(token: string): Promise<Principal | null> {
    const r = await this.check(token);
    return 'principal' in r ? r.principal : null;
  }

  /** The token id of an Authorization header's valid bearer token, or null (what the API rate limit keys on). */
  async tokenIdOf(authorization: string | undefined): Promise<string | null> {
    const token = bearerToken(authorization);
    return token ? ((await this.authenticate(token))?.tokenId ?? null) : null;
  }

  /**
   * The principal of a presented token, or why it is refused. Revocations take effect within
   * CACHE_MS; an expiry at its instant, cache or not.
   */
  async check(token: string): Promise<{ principal: Principal } | { refused: string }> {
    const hash = hashToken(token);
    const hit = this.cache.get(hash);
    let row: TokenRow | null;
    if (hit && Date.now() - hit.at < CACHE_MS) {
      row = hit.row;
    } else {
      row = await this.tokens.findActiveByHash(hash);
      this.cache.set(hash, { row, at: Date.now() });
      if (this.cache.size > 10_000) this.cache.clear();
    }
    if (!row) return { refused: 'the token is unknown or revoked' };
    const refusal = tokenRefusal(row, new Date());
    if (refusal) return { refused: refusal };
    if (!hit || hit.row !== row) void this.tokens.touch(row.id).catch(() => undefined);
    return { principal: { tokenId: row.id, name: row.name, role: row.role, workflows: row.workflows ?? null } };
  }

  /** Creates a token; the secret is returned once and never stored. */
  async create(name: string, role: Role, createdBy: string, expiresIn?: string, workflows?: string[]): Promise<{ token: string; row: TokenRow }> {
    let scope: string[] | null = null;
    try {
      if (workflows !== undefined) scope = parseWorkflowScope(workflows, role);
    } catch (e) {
      throw new DomainError(ErrorCode.Validation, (e as Error).message);
    }
    let expiresAt: Date | null;
    try {
      expiresAt = expiryOf(expiresIn, new Date());
    } catch (e) {
      throw new DomainError(ErrorCode.Validation, (e as Error).message.replace(/^expires-in/, 'expiresIn'));
    }
    const { token, hash, prefix } = generateToken();
    const row = await this.tokens.create(name, role, hash, prefix, createdBy, expiresAt, scope);
    await this.audit.append({
      actor: createdBy,
      actorKind: 'person',
      action: 'token.created',
      reason: `token "${name}" for role ${role}${scope ? ` of workflows ${scope.join(', ')}` : ''}${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}`,
      details: { tokenId: row.id, name, role, prefix, expiresAt: expiresAt?.toISOString() ?? null, workflows: scope },
    });
    return { token, row };
  }

  list(): Promise<TokenRow[]> {
    return this.tokens.list();
  }

  async revoke(id: string, actor: string, reason: string): Promise<TokenRow> {
    const row = await this.tokens.revoke(id);
    if (!row) throw new DomainError(ErrorCode.NotFound, `token ${id} was not found`);
    this.cache.clear();
    await this.audit.append({
      actor,
      actorKind: 'person',
      action: 'token.revoked',
      reason,
      details: { tokenId: id, name: row.name, role: row.role, workflows: row.workflows },
    });
    return row;
  }
}
