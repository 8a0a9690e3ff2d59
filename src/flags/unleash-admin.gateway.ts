import { parseSegmentStrategies } from './domain/parse-segment-strategies';
import type { SegmentSplit } from './domain/segment-split';
import {
  ITEM_ID_CONTEXT_FIELD,
  SEGMENT_CONTEXT_FIELD,
  SEGMENT_STRATEGY_SORT_ORDER,
  UnleashStrategy,
  UnleashStrategyPayload,
  buildFallbackStrategy,
  buildSegmentStrategy,
} from './domain/unleash-strategy';
import { FlagGateway, FlagGatewayError, KILL_SWITCH_FLAG, WorkflowFlagState, workflowFlagName } from './flag-gateway';

export interface UnleashAdminGatewayOptions {
  /** Unleash base URL, e.g. http://127.0.0.1:4242 (a trailing /api is tolerated). */
  url: string;
  /** An admin API token (all projects, all environments). */
  adminToken: string;
  project?: string;
  environment?: string;
  timeoutMs?: number;
  /** Name of the global kill switch flag (default understudy.kill-switch; tests use their own). */
  killSwitchFlag?: string;
}

interface AdminFeature {
  name: string;
  project?: string;
  archived?: boolean;
  environments?: Array<{ name: string; enabled: boolean; strategies?: UnleashStrategy[] }>;
}

interface AdminContextField {
  name: string;
  description?: string;
  stickiness?: boolean;
  legalValues?: Array<{ value: string; description?: string }>;
  sortOrder?: number;
}

interface CallResult<T> {
  status: number;
  body: T | undefined;
}

/** Unleash accepts URL-friendly names only; 100 characters at most. */
const FLAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;

/**
 * FlagGateway over Unleash 6's Admin API (admin token). Endpoints used, all under /api/admin:
 *   POST/GET/PUT context[/:name]                                               context fields
 *   POST projects/:project/features, GET projects/:project/features/:name      flags
 *   POST projects/:project/features/:name/environments/:env/on|off             enable / disable
 *   POST projects/:project/features/:name/environments/:env/strategies         create strategy
 *   PUT  projects/:project/features/:name/environments/:env/strategies/:id     update strategy
 */
export class UnleashAdminGateway implements FlagGateway {
  private readonly base: string;
  private readonly adminToken: string;
  readonly project: string;
  readonly environment: string;
  private readonly timeoutMs: number;
  readonly killSwitchFlag: string;

  constructor(opts: UnleashAdminGatewayOptions) {
    if (!opts.url) throw new FlagGatewayError('FLAG_INVALID_INPUT', 'UnleashAdminGateway: url is required');
    if (!opts.adminToken) throw new FlagGatewayError('FLAG_INVALID_INPUT', 'UnleashAdminGateway: adminToken is required');
    this.base = opts.url.replace(/\/+$/, '').replace(/\/api$/, '');
    this.adminToken = opts.adminToken;
    this.project = opts.project ?? 'default';
    this.environment = opts.environment ?? 'development';
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.killSwitchFlag = opts.killSwitchFlag ?? KILL_SWITCH_FLAG;
  }

  async ensureSetup(): Promise<void> {
    await this.ensureContextField({
      name: SEGMENT_CONTEXT_FIELD,
      description: 'Understudy segment key of a work item (e.g. email|eu); one strategy per segment constrains on it',
      stickiness: false,
    });
    await this.ensureContextField({
      name: ITEM_ID_CONTEXT_FIELD,
      description: 'Work item id; Understudy buckets items into stages sticky on it',
      stickiness: true,
    });
    const created = await this.createFlag(
      this.killSwitchFlag,
      'kill-switch',
      'Enabled: nothing leaves Understudy for any workflow (the AI may keep running in shadow).',
    );
    if (!created) await this.requireFlag(this.killSwitchFlag);
    // A new flag is disabled in every environment: nothing else to do for the kill switch.
  }

  async ensureWorkflowFlag(workflow: string): Promise<void> {
    const flagName = this.flagNameFor(workflow);
    const created = await this.createFlag(
      flagName,
      'operational',
      `Understudy rollout of workflow ${workflow}: one strategy per segment (constraint segment IN [...]), ` +
        'variants = stages (shadow / supervised / confidence-routed), weights = traffic split, sticky on itemId. ' +
        'Disable this flag in an environment to send every item of the workflow to humans only.',
    );
    if (!created) {
      // Existing flags are left as they are: enabled or not, that is now an operator's decision.
      await this.requireFlag(flagName);
      return;
    }
    // The fallback goes in before enabling: enabling an environment without strategies makes
    // Unleash add its own catch-all default strategy (no variants), which would mask segments.
    await this.createStrategy(flagName, buildFallbackStrategy(flagName), `add fallback strategy to ${flagName}`);
    await this.switchEnvironment(flagName, true);
  }

  async readWorkflowFlag(workflow: string): Promise<WorkflowFlagState> {
    const flagName = this.flagNameFor(workflow);
    const feature = await this.getFeature(flagName);
    if (!feature) return { flagName, exists: false, enabled: false, segments: [], fallback: null, otherStrategies: [] };
    const env = this.environmentOf(feature);
    const parsed = parseSegmentStrategies(env.strategies ?? [], flagName);
    return {
      flagName,
      exists: true,
      enabled: env.enabled === true,
      segments: parsed.segments,
      fallback: parsed.fallback,
      otherStrategies: parsed.others,
    };
  }

  async writeSegmentSplit(workflow: string, segment: string, split: SegmentSplit): Promise<void> {
    const flagName = this.flagNameFor(workflow);
    let payload: UnleashStrategyPayload;
    try {
      payload = buildSegmentStrategy(flagName, segment, split);
    } catch (e) {
      throw new FlagGatewayError('FLAG_INVALID_INPUT', `writeSegmentSplit(${workflow}, ${segment}): ${(e as Error).message}`);
    }
    const feature = await this.getFeature(flagName);
    if (!feature) {
      throw new FlagGatewayError('FLAG_NOT_FOUND', `writeSegmentSplit: flag ${flagName} does not exist in project ${this.project}`);
    }
    const env = this.environmentOf(feature);
    const strategies = env.strategies ?? [];
    const existing = parseSegmentStrategies(strategies, flagName).segments.find((s) => s.segment === segment);
    const existingRaw = existing ? strategies.find((s) => s.id === existing.strategyId) : undefined;
    const sharedWith = existingRaw?.constraints?.find((c) => c.contextName === SEGMENT_CONTEXT_FIELD)?.values?.filter((v) => v !== segment) ?? [];
    if (existing && sharedWith.length > 0) {
      // An operator's strategy covers several segments: rewriting it would move the others too.
      // A dedicated strategy evaluated just before it takes this segment over; the shared one stays.
      await this.createStrategy(
        flagName,
        { ...payload, sortOrder: Math.min(SEGMENT_STRATEGY_SORT_ORDER, (existingRaw?.sortOrder ?? 0) - 1) },
        `create strategy for segment ${segment} of ${flagName} (ahead of the one it shared with ${sharedWith.join(', ')})`,
      );
    } else if (existing) {
      // PUT keeps the strategy's id and sortOrder; constraints, parameters and variants are replaced.
      await this.call(
        'PUT',
        `${this.strategiesPath(flagName)}/${encodeURIComponent(existing.strategyId)}`,
        `update strategy for segment ${segment} of ${flagName}`,
        payload,
      );
    } else {
      await this.createStrategy(flagName, { ...payload, sortOrder: SEGMENT_STRATEGY_SORT_ORDER }, `create strategy for segment ${segment} of ${flagName}`);
    }
  }

  async setWorkflowEnabled(workflow: string, enabled: boolean): Promise<void> {
    const flagName = this.flagNameFor(workflow);
    if (enabled) {
      const feature = await this.getFeature(flagName);
      if (!feature) {
        throw new FlagGatewayError('FLAG_NOT_FOUND', `setWorkflowEnabled: flag ${flagName} does not exist in project ${this.project}`);
      }
      const env = this.environmentOf(feature);
      if ((env.strategies ?? []).length === 0) {
        await this.createStrategy(flagName, buildFallbackStrategy(flagName), `add fallback strategy to ${flagName}`);
      }
    }
    await this.switchEnvironment(flagName, enabled);
  }

  async readKillSwitch(): Promise<boolean> {
    const feature = await this.getFeature(this.killSwitchFlag);
    if (!feature) return false;
    return this.environmentOf(feature).enabled === true;
  }

  async setKillSwitch(enabled: boolean): Promise<void> {
    // Enabling adds Unleash's default strategy (100 %) when there is none: exactly "on for everything".
    await this.switchEnvironment(this.killSwitchFlag, enabled);
  }

  // --- helpers ---------------------------------------------------------------------------------

  private flagNameFor(workflow: string): string {
    if (typeof workflow !== 'string' || !FLAG_NAME.test(workflow) || workflowFlagName(workflow).length > 100) {
      throw new FlagGatewayError(
        'FLAG_INVALID_INPUT',
        `workflow name ${JSON.stringify(workflow)} cannot make an Unleash flag name (letters, digits, . _ ~ -; at most ${100 - workflowFlagName('').length} characters)`,
      );
    }
    return workflowFlagName(workflow);
  }

  private featurePath(flagName: string): string {
    return `/api/admin/projects/${encodeURIComponent(this.project)}/features/${encodeURIComponent(flagName)}`;
  }

  private strategiesPath(flagName: string): string {
    return `${this.featurePath(flagName)}/environments/${encodeURIComponent(this.environment)}/strategies`;
  }

  private environmentOf(feature: AdminFeature): { name: string; enabled: boolean; strategies?: UnleashStrategy[] } {
    const env = feature.environments?.find((e) => e.name === this.environment);
    if (!env) {
      throw new FlagGatewayError(
        'FLAG_NOT_FOUND',
        `flag ${feature.name} has no environment ${this.environment} (is the environment enabled for project ${this.project}?)`,
      );
    }
    return env;
  }

  private async getFeature(flagName: string): Promise<AdminFeature | null> {
    const res = await this.call<AdminFeature>('GET', this.featurePath(flagName), `read flag ${flagName}`, undefined, [404]);
    if (res.status === 404 || !res.body || res.body.archived) return null;
    return res.body;
  }

  private async requireFlag(flagName: string): Promise<void> {
    if (!(await this.getFeature(flagName))) {
      throw new FlagGatewayError(
        'FLAG_NOT_FOUND',
        `flag ${flagName} exists in Unleash but not (or only archived) in project ${this.project}: revive it or move it there`,
      );
    }
  }

  /** True when created, false when a flag of that name already existed. */
  private async createFlag(name: string, type: string, description: string): Promise<boolean> {
    const res = await this.call(
      'POST',
      `/api/admin/projects/${encodeURIComponent(this.project)}/features`,
      `create flag ${name}`,
      { name, type, description, impressionData: false },
      [409],
    );
    return res.status !== 409;
  }

  private async createStrategy(flagName: string, payload: UnleashStrategyPayload, what: string): Promise<void> {
    await this.call('POST', this.strategiesPath(flagName), what, payload);
  }

  private async switchEnvironment(flagName: string, enabled: boolean): Promise<void> {
    await this.call(
      'POST',
      `${this.featurePath(flagName)}/environments/${encodeURIComponent(this.environment)}/${enabled ? 'on' : 'off'}`,
      `${enabled ? 'enable' : 'disable'} ${flagName} in ${this.environment}`,
    );
  }

  private async ensureContextField(field: AdminContextField): Promise<void> {
    const res = await this.call('POST', '/api/admin/context', `create context field ${field.name}`, field, [409]);
    if (res.status !== 409 || !field.stickiness) return;
    // It existed: stickiness must still be allowed on it, or Unleash's UI will not offer it.
    const current = await this.call<AdminContextField>('GET', `/api/admin/context/${encodeURIComponent(field.name)}`, `read context field ${field.name}`);
    if (current.body && current.body.stickiness !== true) {
      await this.call('PUT', `/api/admin/context/${encodeURIComponent(field.name)}`, `allow stickiness on ${field.name}`, {
        ...current.body,
        stickiness: true,
      });
    }
  }

  private async call<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    what: string,
    body?: unknown,
    acceptedErrors: number[] = [],
  ): Promise<CallResult<T>> {
    const call = `${method} ${path}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          Authorization: this.adminToken,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const reason = err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
      throw new FlagGatewayError('FLAG_BACKEND_UNREACHABLE', `Unleash ${what} (${call}) failed: ${reason}`, { call });
    }
    const text = await res.text();
    let parsed: unknown;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (res.ok || acceptedErrors.includes(res.status)) return { status: res.status, body: parsed as T | undefined };
    const unleashMessage = describeUnleashError(parsed, text);
    throw new FlagGatewayError(
      res.status === 404 ? 'FLAG_NOT_FOUND' : 'FLAG_BACKEND_REJECTED',
      `Unleash ${what} (${call}) answered ${res.status}: ${unleashMessage}`,
      { call, status: res.status, unleashMessage },
    );
  }
}

/** Unleash 6 errors look like {id, name, message, details: [{message, description?}]}. */
function describeUnleashError(parsed: unknown, text: string): string {
  if (parsed && typeof parsed === 'object') {
    const p = parsed as { name?: string; message?: string; details?: Array<{ message?: string; description?: string }> };
    const details = (p.details ?? []).map((d) => d.description ?? d.message).filter((m): m is string => typeof m === 'string' && m !== p.message);
    const head = [p.name, p.message].filter(Boolean).join(': ');
    if (head || details.length) return [head, ...details].filter(Boolean).join(' — ');
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || '(empty body)';
}
