import { AuditEventEntity } from '../audit/audit-event.entity';
import { WorkflowVersionEntity } from '../workflows/workflow-version.entity';

/**
 * TypeORM entities of every feature. Only tables read and written through TypeORM's
 * repositories are listed; high-volume paths use parameterised SQL in their repositories.
 */
export const ENTITIES: Array<new (...args: never[]) => object> = [AuditEventEntity, WorkflowVersionEntity];
