import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal } from '../auth/principal.decorator';
import { Roles } from '../auth/roles.decorator';
import type { Principal } from '../auth/token.service';
import { ApiErrors } from '../common/http/error.response';
import { ErasureDto } from './dto/erasure.dto';
import { ErasureResponse } from './dto/erasure.response';
import { RetentionService } from './retention.service';

@ApiTags('personal data')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@Controller('api')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Post('items/:itemId/erasure')
  @HttpCode(200)
  @Roles()
  @ApiOperation({
    summary: "Erase one item's personal data in every workflow (admin)",
    description:
      "Removes the input, the model's free text and people's free text of every work item and decision with this itemId, " +
      'keeps their SHA-256 hashes, the compared fields and every count; audited with who and why. Idempotent. ' +
      '404 when no workflow holds the item; 409 while an AI call for it is in flight.',
  })
  @ApiOkResponse({ type: ErasureResponse })
  @ApiErrors(400, 404, 409)
  erase(@Param('itemId') itemId: string, @Body() dto: ErasureDto, @CurrentPrincipal() p: Principal): Promise<ErasureResponse> {
    return this.retention.eraseItem(itemId, actorOf(p), dto.reason);
  }
}
