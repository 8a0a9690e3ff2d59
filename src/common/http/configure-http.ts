import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { ErrorFilter } from './error.filter';
import { createOpenApiDocument } from './openapi';
import { apiRateLimit, dashboardTokenHandoff, securityHeaders } from './security';
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

/**
 * HTTP-wide set-up: security headers, the dashboard link's token handoff, the API rate limit,
 * validation, the error filter, OpenAPI docs at /docs, the dashboard at /. `tokenIdOf` (auth's, passed
 * in by the composition root) names the caller the rate limit counts.
 */
export function configureHttp(app: NestExpressApplication, logger: Logger, tokenIdOf: (authorization: string | undefined) => Promise<string | null>): void {
  const config = app.get<AppConfig>(APP_CONFIG);
  if (config.http.trustProxyHops > 0) app.set('trust proxy', config.http.trustProxyHops);
  app.use(securityHeaders());
  app.use(dashboardTokenHandoff());
  app.use('/api', ...apiRateLimit(config.http.rateLimit, tokenIdOf, logger.child({ component: 'http' })));
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
