import { Global, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { CLOCK, systemClock } from './clock';
import { LOGGER } from './logger';

/** Provides the root pino logger (made at boot) and the clock to every feature. */
@Global()
@Module({})
export class CommonModule {
  static forRoot(logger: Logger) {
    return {
      module: CommonModule,
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: CLOCK, useValue: systemClock },
      ],
      exports: [LOGGER, CLOCK],
    };
  }
}
