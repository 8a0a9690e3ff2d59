import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildModelRequest, ModelRequest } from '../../src/inference/domain/model-request';
import { chatCompletionBody, OpenAiDecisionModel } from '../../src/inference/openai-decision-model';
import { WorkloadGenerator } from '../../tools/simulator/workload';
import { parseWorkflowFile } from '../../src/workflows/domain/workflow-file';
import type { BenchContext } from './context';
import { startSimulator } from './processes';
import { perSecond } from './stats';

/**
 * The cost of one model call in the client: the service's adapter (the openai SDK over keep-alive
 * node:http, src/inference/keep-alive-fetch.ts) against the same SDK on Node's built-in fetch (what
 * the adapter used before). Same requests (the shipped triage prompt), same simulator process at
 * 0 ms, 64 calls in flight, in this (the benchmark's) process; CPU is this process's user + system time.
 */
export interface ModelClientResult {
  calls: number;
  concurrency: number;
  keepAlive: { cpuMsPerCall: number; callsPerSecond: number };
  builtinFetch: { cpuMsPerCall: number; callsPerSecond: number };
}

export async function runModelClient(ctx: BenchContext, o: { calls: number; concurrency: number }): Promise<ModelClientResult> {
  const sim = await startSimulator(ctx, 'model-client-simulator', { seed: 5, accuracy: 0.9, latencyMs: 0, logprobs: true });
  try {
    const file = path.join(ctx.root, 'config', 'workflows.yaml');
    const def = parseWorkflowFile(readFileSync(file, 'utf8'), file)[0].definition;
    const gen = new WorkloadGenerator({ seed: 9, triageShare: 1, triageWorkflow: def.name });
    const requests = gen
      .batch(o.calls)
      .map((i) => buildModelRequest(def, { itemId: i.itemId, segment: i.segment, attributes: i.attributes, input: i.input }).request);
    const adapter = new OpenAiDecisionModel({ baseUrl: sim.url, apiKey: 'bench', timeoutMs: 30_000 });
    const sdk = new OpenAI({ baseURL: sim.url, apiKey: 'bench', maxRetries: 0, timeout: 30_000 });
    const viaBuiltin = (r: ModelRequest) => sdk.chat.completions.create(chatCompletionBody(r));
    const measure = async (call: (r: ModelRequest) => Promise<unknown>) => {
      await Promise.all(requests.slice(0, 200).map(call)); // warm: connections, code
      let next = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: o.concurrency }, async () => {
          while (next < requests.length) await call(requests[next++]);
        }),
      );
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { cpuMsPerCall: (cpu.user + cpu.system) / 1000 / requests.length, callsPerSecond: perSecond(requests.length, ms) };
    };
    // Alternated twice; the lower CPU of each is kept (the machine is shared).
    const a1 = await measure(viaBuiltin);
    const b1 = await measure((r) => adapter.complete(r));
    const a2 = await measure(viaBuiltin);
    const b2 = await measure((r) => adapter.complete(r));
    const best = (x: typeof a1, y: typeof a1) => (x.cpuMsPerCall <= y.cpuMsPerCall ? x : y);
    return { calls: requests.length, concurrency: o.concurrency, keepAlive: best(b1, b2), builtinFetch: best(a1, a2) };
  } finally {
    await sim.stop();
  }
}
