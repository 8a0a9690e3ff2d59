import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/** Flattens class-validator errors to "field: what is wrong (rule)" entries. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): Array<{ field: string; rule: string; message: string }> {
  const out: Array<{ field: string; rule: string; message: string }> = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) out.push({ field, rule, message });
    if (e.children?.length) out.push(...describeValidationErrors(e.children, field));
  }
  return out;
}

/** Request validation whose 400 names each field and the rule it broke. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const details = describeValidationErrors(errors);
      return new BadRequestException({ message: details.map((d) => `${d.field}: ${d.message} (${d.rule})`).join('; '), details });
    },
  });
}
