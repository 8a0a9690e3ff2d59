import { ReasonDto } from '../../common/http/dto';

/** An erasure takes a reason (the request it answers, e.g. a ticket number): it lands in the audit log. */
export class ErasureDto extends ReasonDto {}
