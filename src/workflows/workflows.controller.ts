import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal } from '../auth/principal.decorator';
import { filterToScope } from '../auth/domain/workflow-scope';
import { CrossWorkflow, Roles } from '../auth/roles.decorator';
import type { Principal } from '../auth/token.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { ReasonDto } from '../common/http/dto';
import { ApiErrors } from '../common/http/error.response';
import { intParam } from '../common/http/params';
import { CreateVersionDto } from './dto/create-version.dto';
import { WorkflowVersionSummary, WorkflowVersionView, WorkflowView } from './dto/workflow.response';
import { WorkflowRegistry } from './workflow-registry.service';

const READERS = ['program_manager', 'analyst', 'ops'] as const;

@ApiTags('workflows')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@Controller('api/workflows')
export class WorkflowsController {
  constructor(private readonly registry: WorkflowRegistry) {}

  @Get()
  @Roles(...READERS)
  @CrossWorkflow()
  @ApiOperation({ summary: 'Workflows with their champion and challengers' })
  @ApiOkResponse({ type: [WorkflowView] })
  list(@CurrentPrincipal() p: Principal) {
    return filterToScope(p.workflows, this.registry.activeWorkflows(), (a) => a.champion.workflow).map((a) => ({
      workflow: a.champion.workflow,
      title: a.champion.definition.title,
      description: a.champion.definition.description,
      segmentBy: a.champion.definition.segmentBy,
      champion: summary(a.champion),
      challengers: a.challengers.map(summary),
    }));
  }

  @Get(':workflow/versions')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Every stored version of a workflow, with its definition' })
  @ApiOkResponse({ type: [WorkflowVersionView], description: 'Oldest first' })
  @ApiErrors(404)
  versions(@Param('workflow') workflow: string) {
    const versions = this.registry.allVersions().filter((v) => v.workflow === workflow);
    if (versions.length === 0) throw new DomainError(ErrorCode.NotFound, `workflow ${workflow} was not found`);
    return versions.sort((a, b) => a.version - b.version).map((v) => ({ ...summary(v), definition: v.definition }));
  }

  @Post(':workflow/versions')
  @Roles()
  @ApiOperation({ summary: 'Store a new version (admin); as a challenger it starts in shadow at once' })
  @ApiCreatedResponse({ type: WorkflowVersionView })
  @ApiErrors(400, 409)
  async create(@Param('workflow') workflow: string, @Body() dto: CreateVersionDto, @CurrentPrincipal() p: Principal) {
    if (dto.definition.name !== workflow) {
      throw new DomainError(ErrorCode.Validation, `definition.name must be "${workflow}" (the workflow in the path)`);
    }
    const v = await this.registry.createVersion(dto.definition, dto.role ?? 'challenger', actorOf(p).name, dto.reason);
    return { ...summary(v), definition: v.definition };
  }

  @Post(':workflow/versions/:version/challenger')
  @HttpCode(200)
  @Roles()
  @ApiOperation({ summary: 'Run a stored version as a challenger in shadow (admin)' })
  @ApiOkResponse({ type: WorkflowVersionSummary })
  @ApiErrors(400, 404, 409)
  async challenger(
    @Param('workflow') workflow: string,
    @Param('version', intParam('version')) version: number,
    @Body() dto: ReasonDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return summary(await this.registry.setRole(workflow, version, 'challenger', actorOf(p).name, dto.reason));
  }

  @Post(':workflow/versions/:version/retire')
  @HttpCode(200)
  @Roles()
  @ApiOperation({ summary: 'Stop running a challenger (admin)' })
  @ApiOkResponse({ type: WorkflowVersionSummary })
  @ApiErrors(400, 404, 409)
  async retire(
    @Param('workflow') workflow: string,
    @Param('version', intParam('version')) version: number,
    @Body() dto: ReasonDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return summary(await this.registry.setRole(workflow, version, 'retired', actorOf(p).name, dto.reason));
  }
}

function summary(v: { workflow: string; version: number; role: string; definition: { model: { name: string }; prompt: { version: string } } }) {
  return { workflow: v.workflow, version: v.version, role: v.role, model: v.definition.model.name, promptVersion: v.definition.prompt.version };
}
