import { Injectable } from '@nestjs/common';
import { AuditRepository } from '../audit/audit.repository';
import { DomainError, ErrorCode } from '../common/domain-error';
import { generateToken, hashToken, Role } from './domain/token';
import { TokenRepository, TokenRow } from './token.repository';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

const CACHE_MS = 5000;

@Injectable()
export class TokenService {
  private readonly cache = new Map<string, { principal: Principal | null; at: number }>();

  constructor(
    private readonly tokens: TokenRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** The principal of a presented token, or null. Revocations take effect within CACHE_MS. */
  async authenticate(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const hit = this.cache.get(hash);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.principal;
    const row = await this.tokens.findActiveByHash(hash);
    const principal = row ? { tokenId: row.id, name: row.name, role: row.role } : null;
    this.cache.set(hash, { principal, at: Date.now() });
    if (this.cache.size > 10_000) this.cache.clear();
    if (row) void this.tokens.touch(row.id).catch(() => undefined);
    return principal;
  }

  /** Creates a token; the secret is returned once and never stored. */
  async create(name: string, role: Role, createdBy: string): Promise<{ token: string; row: TokenRow }> {
    const { token, hash, prefix } = generateToken();
    const row = await this.tokens.create(name, role, hash, prefix, createdBy);
    await this.audit.append({ actor: createdBy, actorKind: 'person', action: 'token.created', reason: `token "${name}" for role ${role}`, details: { tokenId: row.id, name, role, prefix } });
    return { token, row };
  }

  list(): Promise<TokenRow[]> {
    return this.tokens.list();
  }

  async revoke(id: string, actor: string, reason: string): Promise<TokenRow> {
    const row = await this.tokens.revoke(id);
    if (!row) throw new DomainError(ErrorCode.NotFound, `token ${id} was not found`);
    this.cache.clear();
    await this.audit.append({ actor, actorKind: 'person', action: 'token.revoked', reason, details: { tokenId: id, name: row.name, role: row.role } });
    return row;
  }
}
