import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/**
 * The OpenAPI document served at /docs-json: every controller route with its answers, and the
 * dashboard, which is static files rather than a route and so is described here.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Understudy API')
    .setDescription(
      'Agreement reports, segments and their rollout, the audit log. Every route needs a bearer token of a role ' +
        '(program_manager, analyst, ops, admin); admin may call everything.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  doc.paths['/'] = {
    get: {
      operationId: 'dashboard',
      tags: ['dashboard'],
      summary: 'The dashboard: sign in with a token (no token needed to load the page)',
      responses: { '200': { description: 'The dashboard’s page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  };
  return doc;
}
