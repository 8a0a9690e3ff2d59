import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal } from '../auth/principal.decorator';
import { killSwitchRefusal } from '../auth/domain/workflow-scope';
import { CrossWorkflow, Roles } from '../auth/roles.decorator';
import type { Principal } from '../auth/token.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { ReasonDto } from '../common/http/dto';
import { ApiErrors } from '../common/http/error.response';
import { intParam } from '../common/http/params';
import { wilsonInterval } from '../stats/domain';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { KillSwitchDto, RollbackDto, ThresholdDto } from './dto/actions.dto';
import { KillSwitchChangeResponse, KillSwitchResponse, RolloutRiskResponse } from './dto/rollout.response';
import { RereviewItemView, ResolvedRereviewView, SegmentDetailView, SegmentView } from './dto/segment.response';
import { watchView } from './domain/watch-view';
import { RolloutService } from './rollout.service';
import { SegmentRepository, SegmentState } from './segment.repository';

const EVERYONE = ['program_manager', 'analyst', 'ops'] as const;

/** Segments: their state, live numbers and gate status; the actions people take on them. */
@ApiTags('segments')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@Controller('api')
export class SegmentsController {
  constructor(
    private readonly segments: SegmentRepository,
    private readonly rollout: RolloutService,
    private readonly workflows: WorkflowRegistry,
  ) {}

  private present(s: SegmentState) {
    return { ...view(s), ...watchView(s, this.workflows.activeOf(s.workflow)?.champion.definition.rollout) };
  }

  private known(workflow: string) {
    const a = this.workflows.activeOf(workflow);
    if (!a) throw new DomainError(ErrorCode.NotFound, `workflow ${workflow} was not found`);
    return a;
  }

  @Get('workflows/:workflow/segments')
  @Roles(...EVERYONE)
  @ApiOperation({ summary: 'Every segment of a workflow: stage, traffic split, pause, threshold and gate status' })
  @ApiOkResponse({ type: [SegmentView], description: 'By segment name' })
  @ApiErrors(404)
  async list(@Param('workflow') workflow: string) {
    this.known(workflow);
    return (await this.segments.list(workflow)).map((x) => this.present(x));
  }

  @Get('workflows/:workflow/segments/:segment')
  @Roles(...EVERYONE)
  @ApiOperation({ summary: 'One segment with live metrics (last hour) and the gate status criterion by criterion' })
  @ApiOkResponse({ type: SegmentDetailView })
  @ApiErrors(404)
  async get(@Param('workflow') workflow: string, @Param('segment') segment: string) {
    const { state: s, lastHour: m, openRereviewItems, arms } = await this.rollout.detail(workflow, segment);
    return {
      ...this.present(s),
      lastHour: {
        ...m,
        agreement: wilsonInterval(m.agree, m.n),
        overrideRate: m.reviews ? wilsonInterval(m.overridden, m.reviews) : null,
      },
      openRereviewItems,
      evidence: {
        since: s.stageStartedAt,
        arms: arms.map((a) => ({
          arm: a.arm,
          blind: { n: a.blindN, agree: a.blindAgree, agreement: wilsonInterval(a.blindAgree, a.blindN) },
          anchored: { n: a.anchoredN, agree: a.anchoredAgree, overridden: a.anchoredOverridden, agreement: wilsonInterval(a.anchoredAgree, a.anchoredN) },
        })),
      },
    };
  }

  @Post('workflows/:workflow/segments/:segment/promote')
  @HttpCode(200)
  @Roles('program_manager')
  @ApiOperation({ summary: 'One step up now (program manager), when the gate holds or awaits approval' })
  @ApiOkResponse({ type: SegmentView, description: 'The segment after the action' })
  @ApiErrors(400, 404, 409)
  async promote(@Param('workflow') w: string, @Param('segment') s: string, @Body() dto: ReasonDto, @CurrentPrincipal() p: Principal) {
    return this.present(await this.rollout.promote(w, s, actorOf(p), dto.reason));
  }

  @Post('workflows/:workflow/segments/:segment/approve')
  @HttpCode(200)
  @Roles('program_manager')
  @ApiOperation({ summary: 'Approve the step the controller is waiting on (program manager)' })
  @ApiOkResponse({ type: SegmentView, description: 'The segment after the action' })
  @ApiErrors(400, 404, 409)
  async approve(@Param('workflow') w: string, @Param('segment') s: string, @Body() dto: ReasonDto, @CurrentPrincipal() p: Principal) {
    return this.present(await this.rollout.approve(w, s, actorOf(p), dto.reason));
  }

  @Post('workflows/:workflow/segments/:segment/hold')
  @HttpCode(200)
  @Roles('program_manager')
  @ApiOperation({ summary: 'Hold the segment where it is: no promotion until resumed (program manager)' })
  @ApiOkResponse({ type: SegmentView, description: 'The segment after the action' })
  @ApiErrors(400, 404, 409)
  async hold(@Param('workflow') w: string, @Param('segment') s: string, @Body() dto: ReasonDto, @CurrentPrincipal() p: Principal) {
    return this.present(await this.rollout.hold(w, s, actorOf(p), dto.reason));
  }

  @Post('workflows/:workflow/segments/:segment/resume')
  @HttpCode(200)
  @Roles('program_manager')
  @ApiOperation({ summary: 'Lift a hold, a guard lock or an operator lock (program manager)' })
  @ApiOkResponse({ type: SegmentView, description: 'The segment after the action' })
  @ApiErrors(400, 404, 409)
  async resume(@Param('workflow') w: string, @Param('segment') s: string, @Body() dto: ReasonDto, @CurrentPrincipal() p: Principal) {
    return this.present(await this.rollout.resume(w, s, actorOf(p), dto.reason));
  }

  @Post('workflows/:workflow/segments/:segment/rollback')
  @HttpCode(200)
  @Roles('ops', 'program_manager')
  @ApiOperation({ summary: 'Back one stage (or to shadow) now, and hold (ops, program manager)' })
  @ApiOkResponse({ type: SegmentView, description: 'The segment after the action' })
  @ApiErrors(400, 404, 409)
  async rollback(@Param('workflow') w: string, @Param('segment') s: string, @Body() dto: RollbackDto, @CurrentPrincipal() p: Principal) {
    return this.present(await this.rollout.rollback(w, s, actorOf(p), dto.reason, dto.toShadow ?? false));
  }

  @Put('workflows/:workflow/segments/:segment/threshold')
  @Roles('program_manager')
  @ApiOperation({ summary: 'Fix the confidence threshold, or null to return to the computed one (program manager)' })
  @ApiOkResponse({ type: SegmentView, description: 'The segment after the action' })
  @ApiErrors(400, 404, 409)
  async threshold(@Param('workflow') w: string, @Param('segment') s: string, @Body() dto: ThresholdDto, @CurrentPrincipal() p: Principal) {
    return this.present(await this.rollout.setThreshold(w, s, dto.threshold, actorOf(p), dto.reason));
  }

  @Get('workflows/:workflow/segments/:segment/rereview')
  @Roles(...EVERYONE)
  @ApiQuery({ name: 'resolved', required: false, enum: ['true', 'false'] })
  @ApiOperation({ summary: 'Items the AI decided `auto` inside a regressed window, for people to look at again' })
  @ApiOkResponse({ type: [RereviewItemView], description: 'Oldest first, at most 1000' })
  @ApiErrors(400, 404)
  async rereview(@Param('workflow') w: string, @Param('segment') s: string, @Query('resolved') resolved?: string) {
    this.known(w);
    if (resolved !== undefined && resolved !== 'true' && resolved !== 'false')
      throw new DomainError(ErrorCode.Validation, 'resolved: must be true or false (isIn)');
    return this.rollout.rereviewItems(w, s, resolved === undefined ? undefined : resolved === 'true');
  }

  @Post('rereview/:id/resolve')
  @HttpCode(200)
  @Roles('ops', 'program_manager')
  @CrossWorkflow()
  @ApiOperation({ summary: 'Mark a re-review item as looked at again (ops, program manager)' })
  @ApiOkResponse({ type: ResolvedRereviewView })
  @ApiErrors(400, 404)
  async resolve(@Param('id', intParam('id')) id: number, @Body() dto: ReasonDto, @CurrentPrincipal() p: Principal) {
    return this.rollout.resolveRereview(id, actorOf(p), dto.reason, p.workflows);
  }

  @Get('rollout/risk')
  @Roles(...EVERYONE)
  @CrossWorkflow()
  @ApiOperation({ summary: 'The risk of the rollout as a whole: expected false reverts a day and bounds on false promotions, over every segment' })
  @ApiOkResponse({ type: RolloutRiskResponse })
  risk(@CurrentPrincipal() p: Principal) {
    return this.rollout.risk(p.workflows);
  }

  @Get('kill-switch')
  @Roles(...EVERYONE)
  @CrossWorkflow()
  @ApiOperation({
    summary:
      'Whether the global kill switch is on: stored in PostgreSQL or set in Unleash (unleash null when Unleash does not answer; pending while a write to it is owed)',
  })
  @ApiOkResponse({ type: KillSwitchResponse })
  killSwitch() {
    return this.rollout.killSwitch();
  }

  @Put('kill-switch')
  @Roles('ops', 'program_manager')
  @CrossWorkflow()
  @ApiOperation({
    summary:
      'Pull or release the global kill switch: when on, nothing leaves Understudy (ops, program manager; a workflow-scoped token may pull it, not release it)',
  })
  @ApiOkResponse({ type: KillSwitchChangeResponse })
  @ApiErrors(400)
  setKillSwitch(@Body() dto: KillSwitchDto, @CurrentPrincipal() p: Principal) {
    const refusal = killSwitchRefusal(p, dto.enabled);
    if (refusal) throw new DomainError(ErrorCode.Forbidden, refusal);
    return this.rollout.setKillSwitch(dto.enabled, actorOf(p), dto.reason);
  }
}

/** What people see of a segment (the guard's inner state reduced to its numbers). */
export function view(s: SegmentState) {
  return {
    workflow: s.workflow,
    segment: s.segment,
    stage: s.stage,
    trafficPct: s.stage === 'shadow' ? 100 : s.trafficPct,
    stageStartedAt: s.stageStartedAt,
    stepStartedAt: s.stepStartedAt,
    paused: s.paused,
    pauseKind: s.pauseKind,
    pauseReason: s.pauseReason,
    pausedAt: s.pausedAt,
    pausedBy: s.pausedBy,
    pendingStep: s.pendingStep,
    approvedStep: s.approvedStep,
    gate: s.lastVerdict,
    // What Unleash holds for the segment: pending while a write is owed (the stored stage is in force meanwhile).
    flag: s.flagSplit
      ? {
          stage: s.flagSplit.stage,
          trafficPct: s.flagSplit.trafficPct,
          pending: s.flagSplit.pending === true,
          writtenAt: s.flagSplit.writtenAt ?? null,
          irregular: s.flagSplit.irregular ?? null,
        }
      : null,
    lastEvaluatedAt: s.lastEvaluatedAt,
    baseline: s.baseline,
    guard:
      s.guardParams && s.guardState
        ? {
            statistic: s.guardState.s,
            threshold: s.guardParams.h,
            baseline: s.guardParams.p0,
            alternative: s.guardParams.p1,
            window: { n: s.guardState.windowN, agree: s.guardState.windowAgree },
          }
        : null,
    threshold: s.threshold,
    thresholdSource: s.thresholdSource,
    thresholdDetails: s.thresholdDetails,
  };
}
