import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorCode } from '../domain-error';

export class ValidationIssue {
  @ApiProperty({ example: 'reason' })
  field!: string;

  @ApiProperty({ example: 'isLength' })
  rule!: string;

  @ApiProperty()
  message!: string;
}

/** The body of every error answer, as ErrorFilter writes it. */
export class ErrorBody {
  @ApiProperty({
    description: `What went wrong: ${Object.values(ErrorCode).join(', ')}; RATE_LIMITED (429); INTERNAL for an unexpected error (500); HTTP_<status> for other HTTP errors`,
    example: ErrorCode.Validation,
  })
  code!: string;

  @ApiProperty({
    description: 'For people; a 400 names each field and the rule it broke, e.g. "reason: … (isLength)"',
    example: 'reason: reason must be longer than or equal to 3 characters (isLength)',
  })
  message!: string;

  @ApiProperty({ description: 'Error id, also in the x-error-id header and the service log', format: 'uuid' })
  id!: string;

  @ApiProperty({
    required: false,
    oneOf: [
      { type: 'array', items: { $ref: getSchemaPath(ValidationIssue) } },
      { type: 'object', additionalProperties: true },
    ],
    description:
      'When there are any: a 400 of a body or query lists each field and rule; other errors carry their own (e.g. the gate criteria of a refused promotion)',
  })
  details?: ValidationIssue[] | Record<string, unknown>;
}

export class ErrorResponse {
  @ApiProperty({ type: () => ErrorBody })
  error!: ErrorBody;
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 429 | 503;

const WHAT: Record<ErrorStatus, string> = {
  400: 'Invalid input: the message names each field and the rule it broke',
  401: 'No bearer token, or an unknown or revoked one',
  403: 'The token’s role may not call this route',
  404: 'The workflow, segment, version or item was not found',
  409: 'Not possible in the current state (e.g. already paused, the gate does not hold, a version number taken)',
  429: 'RATE_LIMITED: over the API rate limit of the token (or of the address without a valid token); Retry-After says when to ask again',
  503: 'A dependency does not answer',
};

/** Documents the error answers a route gives, all in ErrorFilter's shape. */
export function ApiErrors(...statuses: ErrorStatus[]) {
  return applyDecorators(
    ApiExtraModels(ErrorResponse, ValidationIssue),
    ...statuses.map((status) => ApiResponse({ status, description: WHAT[status], schema: { $ref: getSchemaPath(ErrorResponse) } })),
  );
}
