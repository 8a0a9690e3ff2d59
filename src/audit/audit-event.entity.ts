import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ActorKind } from './domain/actor';

export type { ActorKind };

/** One line of the append-only audit log (UPDATE, DELETE and TRUNCATE are refused by the database). */
@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  @Column({ type: 'text' })
  actor!: string;

  @Column({ name: 'actor_kind', type: 'text' })
  actorKind!: ActorKind;

  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text', nullable: true })
  workflow!: string | null;

  @Column({ type: 'text', nullable: true })
  segment!: string | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  details!: Record<string, unknown>;
}
