import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { TokenRepository } from './token.repository';
import { TokenService } from './token.service';
import { TokensController } from './tokens.controller';

@Global()
@Module({
  controllers: [TokensController],
  providers: [TokenRepository, TokenService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenService],
})
export class AuthModule {}
