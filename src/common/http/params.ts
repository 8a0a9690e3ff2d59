import { ParseIntPipe, ParseUUIDPipe } from '@nestjs/common';
import { DomainError, ErrorCode } from '../domain-error';

/** Path parameters whose 400 names the parameter and the rule, like body validation does. */
export const intParam = (name: string) =>
  new ParseIntPipe({ exceptionFactory: () => new DomainError(ErrorCode.Validation, `${name}: must be an integer (isInt)`, { field: name, rule: 'isInt' }) });

export const uuidParam = (name: string) =>
  new ParseUUIDPipe({
    version: '4',
    exceptionFactory: () => new DomainError(ErrorCode.Validation, `${name}: must be a UUID (isUuid)`, { field: name, rule: 'isUuid' }),
  });
