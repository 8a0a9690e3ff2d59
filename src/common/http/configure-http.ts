import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Logger } from 'pino';
import { ErrorFilter } from './error.filter';
import { createOpenApiDocument } from './openapi';
import { validationPipe } from './validation';

/** Repo (or install) root: the folder holding package.json above this file. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

/** HTTP-wide set-up: validation, the error filter, OpenAPI docs at /docs, the dashboard at /. */
export function configureHttp(app: NestExpressApplication, logger: Logger): void {
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorFilter(logger.child({ component: 'http' })));
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.useBodyParser('json', { limit: '1mb' });

  SwaggerModule.setup('docs', app, () => createOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });

  const root = packageRoot();
  app.useStaticAssets(path.join(root, 'src', 'dashboard', 'public'), { index: 'index.html', fallthrough: true });
  app.useStaticAssets(path.join(root, 'node_modules', 'chart.js', 'dist'), { prefix: '/vendor/chart.js/', fallthrough: true });
}
