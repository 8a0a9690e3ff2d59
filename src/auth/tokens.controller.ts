import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ReasonDto } from '../common/http/dto';
import { ApiErrors } from '../common/http/error.response';
import { uuidParam } from '../common/http/params';
import { CreateTokenDto } from './dto/create-token.dto';
import { CreatedTokenView, MeResponse, TokenView } from './dto/token.response';
import { actorOf, CurrentPrincipal } from './principal.decorator';
import { CrossWorkflow, Roles } from './roles.decorator';
import { Principal, TokenService } from './token.service';

@ApiTags('tokens')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@Controller('api')
export class TokensController {
  constructor(private readonly tokens: TokenService) {}

  @Get('me')
  @Roles('program_manager', 'analyst', 'ops')
  @CrossWorkflow()
  @ApiOperation({ summary: 'Who the token belongs to, its role and its workflow scope (null: every workflow)' })
  @ApiOkResponse({ type: MeResponse })
  me(@CurrentPrincipal() p: Principal) {
    return { name: p.name, role: p.role, workflows: p.workflows };
  }

  @Get('tokens')
  @Roles()
  @ApiOperation({ summary: 'List tokens (admin); secrets are never shown again' })
  @ApiOkResponse({ type: [TokenView], description: 'Oldest first, revoked ones included' })
  list() {
    return this.tokens.list();
  }

  @Post('tokens')
  @Roles()
  @ApiOperation({ summary: 'Create a token for a role (admin); the secret is in this answer only' })
  @ApiCreatedResponse({ type: CreatedTokenView })
  @ApiErrors(400)
  async create(@Body() dto: CreateTokenDto, @CurrentPrincipal() p: Principal) {
    const { token, row } = await this.tokens.create(dto.name, dto.role, actorOf(p).name, dto.expiresIn, dto.workflows);
    return { ...row, token };
  }

  @Post('tokens/:id/revoke')
  @HttpCode(200)
  @Roles()
  @ApiOperation({ summary: 'Revoke a token (admin)' })
  @ApiOkResponse({ type: TokenView, description: 'The token, revoked (revoking twice keeps the first time)' })
  @ApiErrors(400, 404)
  revoke(@Param('id', uuidParam('id')) id: string, @Body() dto: ReasonDto, @CurrentPrincipal() p: Principal) {
    return this.tokens.revoke(id, actorOf(p).name, dto.reason);
  }
}
