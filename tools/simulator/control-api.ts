/**
 * The MODEL SIMULATOR's control API (`/_simulator/...`, JSON in and out; see model-simulator.ts for
 * the routes): a request becomes a call on the simulator and a status with a JSON payload. No I/O
 * of its own; refusals are thrown as HttpError (and ScenarioError for an invalid scenario).
 */
import type { ModelStats, RecordedRequest } from './model-state';
import { HttpError, parseJsonBody } from './openai-wire';
import type { Scenario } from './scenario';
import { SIMULATOR_FINGERPRINT } from './simulate-chat';

/** What the control API needs of the simulator. */
export interface SimulatorControl {
  setScenario(model: string, scenario: unknown): Scenario;
  patchScenario(model: string, patch: unknown): Scenario;
  getScenario(model: string): { scenario: Scenario; source: 'explicit' | 'default' };
  removeScenario(model: string): void;
  explicitScenarios(): Record<string, Scenario>;
  getDefaultScenario(): Scenario;
  setDefaultScenario(scenario: unknown): Scenario;
  patchDefaultScenario(patch: unknown): Scenario;
  requests(model: string, limit?: number): RecordedRequest[];
  clearRequests(model?: string): void;
  stats(model: string): ModelStats;
  modelNames(): string[];
  pendingResponses(): number;
  reset(): void;
}

export interface ControlReply {
  status: number;
  payload: unknown;
}

/** Answers `method path` (path starting with `/_simulator/`) with the query and raw body given. */
export function control(sim: SimulatorControl, method: string, path: string, query: URLSearchParams, raw: string): ControlReply {
  const rest = path.slice('/_simulator/'.length);
  const model = query.get('model') ?? undefined;
  const ok = (payload: unknown): ControlReply => ({ status: 200, payload });

  if (rest.startsWith('scenarios/')) {
    const name = decodeURIComponent(rest.slice('scenarios/'.length));
    if (!name) throw new HttpError(400, 'model name missing in path', 'model');
    switch (method) {
      case 'GET':
        return ok({ model: name, ...sim.getScenario(name) });
      case 'PUT':
        return ok({ model: name, source: 'explicit', scenario: sim.setScenario(name, parseJsonBody(raw)) });
      case 'PATCH':
        return ok({ model: name, source: 'explicit', scenario: sim.patchScenario(name, parseJsonBody(raw)) });
      case 'DELETE':
        sim.removeScenario(name);
        return ok({ model: name, ...sim.getScenario(name) });
    }
    throw new HttpError(405, `Method ${method} not allowed on ${path}`);
  }
  const route = `${method} ${rest}`;
  switch (route) {
    case 'GET scenarios':
      return ok({ default: sim.getDefaultScenario(), models: sim.explicitScenarios() });
    case 'GET default-scenario':
      return ok({ scenario: sim.getDefaultScenario() });
    case 'PUT default-scenario':
      return ok({ scenario: sim.setDefaultScenario(parseJsonBody(raw)) });
    case 'PATCH default-scenario':
      return ok({ scenario: sim.patchDefaultScenario(parseJsonBody(raw)) });
    case 'GET requests': {
      if (!model) throw new HttpError(400, "query parameter 'model' is required", 'model', 'missing_required_parameter');
      const limitText = query.get('limit');
      const limit = limitText === null ? Infinity : Number(limitText);
      if (!Number.isInteger(limit) && limit !== Infinity) throw new HttpError(400, "'limit' must be an integer", 'limit');
      if (limit < 0) throw new HttpError(400, "'limit' must be >= 0", 'limit');
      const requests = sim.requests(model, limit);
      return ok({ model, count: requests.length, requests });
    }
    case 'DELETE requests':
      sim.clearRequests(model);
      return ok({ cleared: model ?? 'all' });
    case 'GET stats':
      if (model) return ok(sim.stats(model));
      return ok({ models: Object.fromEntries(sim.modelNames().map((m) => [m, sim.stats(m)])) });
    case 'POST reset':
      sim.reset();
      return ok({ reset: true });
    case 'GET health':
      return ok({ status: 'ok', simulator: SIMULATOR_FINGERPRINT, models: sim.modelNames().length, pending: sim.pendingResponses() });
  }
  throw new HttpError(404, `MODEL SIMULATOR control API: no route for ${method} ${path}`, null, 'unknown_url');
}
