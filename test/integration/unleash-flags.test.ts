import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SegmentSplit } from '../../src/flags/domain/segment-split';
import { KILL_SWITCH_FLAG, workflowFlagName } from '../../src/flags/flag-gateway';
import { StageDecision } from '../../src/flags/flag-reader';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { UnleashFlagReader, UnleashFlagReaderOptions } from '../../src/flags/unleash-flag-reader';
import { UnleashHandle, startUnleash } from '../harness/unleash-server';

/**
 * Against the real unleash-server: the shared stack's when globalSetup exported it (US_STACK, or
 * UNLEASH_URL / UNLEASH_ADMIN_TOKEN / UNLEASH_CLIENT_TOKEN), else one started (or reused) here.
 */

const REFRESH_MS = 500;
/**
 * A change reaches the reader within a few client refresh intervals plus Unleash's own revision tick
 * (1 s) that invalidates its client-API cache: about 2 s on an idle machine (the tests log it). The
 * limit is five times that, so a machine two or three times slower and busy still passes while a
 * reader that stopped polling does not.
 */
const PROPAGATION_DEADLINE_MS = 5 * (6 * REFRESH_MS + 1_000);
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const usedWorkflows = new Set<string>();
const wf = (name: string) => {
  const workflow = `it-${runId}-${name}`;
  usedWorkflows.add(workflow);
  return workflow;
};

let handle: UnleashHandle | undefined;
let url: string;
let adminToken: string;
let clientToken: string;
let gateway: UnleashAdminGateway;
const readers: UnleashFlagReader[] = [];
const tempDirs: string[] = [];
const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'understudy-flags-'));
  tempDirs.push(d);
  return d;
}

async function startedReader(over: Partial<UnleashFlagReaderOptions> = {}): Promise<UnleashFlagReader> {
  const reader = new UnleashFlagReader({
    url,
    clientToken,
    appName: `understudy-it-${runId}`,
    refreshIntervalMs: REFRESH_MS,
    disableMetrics: true,
    backupPath: tempDir(),
    startTimeoutMs: 15_000,
    logger: quietLogger,
    ...over,
  });
  readers.push(reader);
  await reader.start();
  return reader;
}

async function admin(method: string, apiPath: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${apiPath}`, {
    method,
    headers: { Authorization: adminToken, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Polls until `check` holds; returns the elapsed ms, or fails with the last value seen. */
async function within<T>(deadlineMs: number, read: () => T, check: (v: T) => boolean): Promise<number> {
  const t0 = Date.now();
  let last: T = read();
  while (!check(last)) {
    if (Date.now() - t0 > deadlineMs) {
      throw new Error(`not observed within ${deadlineMs} ms; last value ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    last = read();
  }
  return Date.now() - t0;
}

/** The flag names in the backup file(s) unleash-client wrote into `dir` (none while unwritten or half written). */
function backupFlagNames(dir: string): string[] {
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith('unleash-backup-'))) {
    try {
      const content = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { features?: Array<{ name: string }> };
      names.push(...(content.features ?? []).map((f) => f.name));
    } catch {
      // Being written: read again on the next poll.
    }
  }
  return names;
}

const items = Array.from({ length: 4000 }, (_, i) => `item-${i}`);
function itemsAt(reader: UnleashFlagReader, workflow: string, segment: string, stage: string): Set<string> {
  return new Set(items.filter((id) => reader.stageFor(workflow, segment, id).stage === stage));
}

/** The shared stack's Unleash: US_STACK (jest globalSetup) or UNLEASH_URL / _ADMIN_TOKEN / _CLIENT_TOKEN. */
function sharedUnleash(): { url: string; adminToken: string; clientToken: string } | null {
  if (process.env.US_STACK) {
    const stack = JSON.parse(process.env.US_STACK) as { unleash?: { url: string; adminToken: string; clientToken: string } };
    if (stack.unleash) return stack.unleash;
  }
  const { UNLEASH_URL, UNLEASH_ADMIN_TOKEN, UNLEASH_CLIENT_TOKEN } = process.env;
  if (UNLEASH_URL && UNLEASH_ADMIN_TOKEN && UNLEASH_CLIENT_TOKEN) {
    return { url: UNLEASH_URL, adminToken: UNLEASH_ADMIN_TOKEN, clientToken: UNLEASH_CLIENT_TOKEN };
  }
  return null;
}

beforeAll(async () => {
  const shared = sharedUnleash();
  if (shared) {
    url = shared.url.replace(/\/+$/, '');
    ({ adminToken, clientToken } = shared);
  } else {
    handle = await startUnleash({});
    ({ url, adminToken, clientToken } = handle);
  }
  gateway = new UnleashAdminGateway({ url, adminToken });
  await gateway.ensureSetup();
});

afterAll(async () => {
  await Promise.all(readers.map((r) => r.close()));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  // Archive this run's flags so a reused Unleash database does not pile them up in the project. Not
  // deleted from the archive at once: Unleash 6.10 records the archiving in the background, and a
  // flag deleted meanwhile makes that fail on a foreign key and took the shared server down mid-run.
  if (url) {
    for (const workflow of usedWorkflows) await admin('DELETE', `/api/admin/projects/default/features/${encodeURIComponent(workflowFlagName(workflow))}`);
  }
  if (handle) await handle.stop();
});

describe('UnleashAdminGateway against unleash-server', () => {
  it('sets up context fields, the kill switch and a workflow flag idempotently', async () => {
    const workflow = wf('setup');
    await gateway.ensureSetup();
    await gateway.ensureSetup();
    await gateway.ensureWorkflowFlag(workflow);
    await gateway.ensureWorkflowFlag(workflow);

    const itemId = await admin('GET', '/api/admin/context/itemId');
    expect(itemId.status).toBe(200);
    expect(itemId.json.stickiness).toBe(true);
    expect((await admin('GET', '/api/admin/context/segment')).status).toBe(200);

    const kill = await admin('GET', `/api/admin/projects/default/features/${KILL_SWITCH_FLAG}`);
    expect(kill.status).toBe(200);
    expect(kill.json.type).toBe('kill-switch');

    const state = await gateway.readWorkflowFlag(workflow);
    expect(state).toMatchObject({ flagName: workflowFlagName(workflow), exists: true, enabled: true, segments: [] });
    expect(state.fallback).toEqual({ strategyId: expect.any(String), split: { stage: 'shadow', trafficPct: 100 } });
    expect(state.otherStrategies).toEqual([]);

    // Exactly one strategy: ensureWorkflowFlag did not let Unleash add its own default on enable.
    const raw = await admin('GET', `/api/admin/projects/default/features/${workflowFlagName(workflow)}`);
    const dev = raw.json.environments.find((e: { name: string }) => e.name === 'development');
    expect(dev.strategies).toHaveLength(1);

    expect(await gateway.readWorkflowFlag(wf('never-created'))).toMatchObject({ exists: false, enabled: false, segments: [] });
  });

  it('writes a segment split that Unleash shows as a strategy with those variants and weights', async () => {
    const workflow = wf('write');
    await gateway.ensureWorkflowFlag(workflow);
    await gateway.writeSegmentSplit(workflow, 'email|eu', { stage: 'supervised', trafficPct: 25 });

    const raw = await admin('GET', `/api/admin/projects/default/features/${workflowFlagName(workflow)}`);
    expect(raw.status).toBe(200);
    const dev = raw.json.environments.find((e: { name: string }) => e.name === 'development');
    const strategy = dev.strategies.find((s: { title: string }) => s.title === 'segment:email|eu');
    expect(strategy).toMatchObject({
      name: 'flexibleRollout',
      parameters: { rollout: '100', stickiness: 'itemId', groupId: workflowFlagName(workflow) },
      constraints: [{ contextName: 'segment', operator: 'IN', values: ['email|eu'], inverted: false, caseInsensitive: false }],
    });
    const weights = Object.fromEntries(strategy.variants.map((v: { name: string; weight: number }) => [v.name, v.weight]));
    expect(weights).toEqual({ supervised: 250, shadow: 750 });
    expect(strategy.variants.every((v: { stickiness: string }) => v.stickiness === 'itemId')).toBe(true);
    // Evaluated before the fallback.
    const fallback = dev.strategies.find((s: { constraints: unknown[] }) => s.constraints.length === 0);
    expect(strategy.sortOrder).toBeLessThan(fallback.sortOrder);

    // Updating keeps the same strategy.
    await gateway.writeSegmentSplit(workflow, 'email|eu', { stage: 'confidence-routed', trafficPct: 12.5 });
    const state = await gateway.readWorkflowFlag(workflow);
    expect(state.segments).toEqual([{ segment: 'email|eu', strategyId: strategy.id, split: { stage: 'confidence-routed', trafficPct: 12.5 } }]);

    await expect(gateway.writeSegmentSplit(workflow, 'x', { stage: 'supervised', trafficPct: 120 })).rejects.toMatchObject({
      code: 'FLAG_INVALID_INPUT',
    });
    await expect(gateway.writeSegmentSplit(wf('missing'), 'x', { stage: 'supervised', trafficPct: 10 })).rejects.toMatchObject({
      code: 'FLAG_NOT_FOUND',
    });
  });

  it('takes one segment out of an operator’s shared strategy without moving the others', async () => {
    const workflow = wf('shared');
    const flag = workflowFlagName(workflow);
    await gateway.ensureWorkflowFlag(workflow);
    const shared = await admin('POST', `/api/admin/projects/default/features/${flag}/environments/development/strategies`, {
      name: 'flexibleRollout',
      title: 'ops: m1 and m2',
      sortOrder: 0,
      parameters: { rollout: '100', stickiness: 'itemId', groupId: flag },
      constraints: [{ contextName: 'segment', operator: 'IN', values: ['m1', 'm2'], caseInsensitive: false, inverted: false }],
      variants: [{ name: 'supervised', weight: 1000, weightType: 'variable', stickiness: 'itemId' }],
    });
    expect(shared.status).toBe(200);

    await gateway.writeSegmentSplit(workflow, 'm1', { stage: 'confidence-routed', trafficPct: 50 });
    const state = await gateway.readWorkflowFlag(workflow);
    const m1 = state.segments.find((s) => s.segment === 'm1');
    const m2 = state.segments.find((s) => s.segment === 'm2');
    expect(m1).toMatchObject({ split: { stage: 'confidence-routed', trafficPct: 50 } });
    expect(m1?.strategyId).not.toBe(shared.json.id);
    expect(m2).toMatchObject({ strategyId: shared.json.id, split: { stage: 'supervised', trafficPct: 100 } });
    expect(m2?.irregular).toMatch(/one strategy for 2 segments/);
    expect(state.otherStrategies?.map((o) => o.reason)).toEqual([expect.stringMatching(/duplicate for segment m1/)]);
  });

  it('names the call and Unleash’s answer when Unleash refuses', async () => {
    const bad = new UnleashAdminGateway({ url, adminToken: 'not-a-token' });
    await expect(bad.readKillSwitch()).rejects.toThrow(/GET \/api\/admin\/projects\/default\/features\/understudy\.kill-switch\) answered 401/);
    const nowhere = new UnleashAdminGateway({ url: 'http://127.0.0.1:1', adminToken, timeoutMs: 2000 });
    await expect(nowhere.readKillSwitch()).rejects.toMatchObject({ code: 'FLAG_BACKEND_UNREACHABLE' });
  });
});

describe('UnleashFlagReader against unleash-server', () => {
  it('sees a changed split within a few refresh intervals', async () => {
    const workflow = wf('propagate');
    await gateway.ensureWorkflowFlag(workflow);
    const reader = await startedReader();
    expect(reader.ready()).toBe(true);
    await within(
      PROPAGATION_DEADLINE_MS,
      () => reader.stageFor(workflow, 'chat', 'item-1'),
      (d) => d.reason === 'variant',
    );
    // Segments without a strategy of their own are in shadow (the fallback).
    expect(reader.stageFor(workflow, 'chat', 'item-1')).toEqual({ stage: 'shadow', reason: 'variant', variant: 'shadow' });

    await gateway.writeSegmentSplit(workflow, 'chat', { stage: 'supervised', trafficPct: 100 });
    const ms1 = await within(
      PROPAGATION_DEADLINE_MS,
      () => reader.stageFor(workflow, 'chat', 'item-1').stage,
      (s) => s === 'supervised',
    );

    await gateway.writeSegmentSplit(workflow, 'chat', { stage: 'confidence-routed', trafficPct: 100 });
    const ms2 = await within(
      PROPAGATION_DEADLINE_MS,
      () => reader.stageFor(workflow, 'chat', 'item-1').stage,
      (s) => s === 'confidence-routed',
    );
    expect(reader.stageFor(workflow, 'voice', 'item-1').stage).toBe('shadow');
    console.log(`split change seen by the reader after ${ms1} ms and ${ms2} ms (refresh ${REFRESH_MS} ms)`);
  });

  it('splits 4,000 items about 25 / 75, sticky per item, and keeps them up when the share grows to 50 %', async () => {
    const workflow = wf('sticky');
    const segment = 'web|us';
    await gateway.ensureWorkflowFlag(workflow);
    await gateway.writeSegmentSplit(workflow, segment, { stage: 'supervised', trafficPct: 25 });
    const reader = await startedReader();
    await within(
      PROPAGATION_DEADLINE_MS,
      () => itemsAt(reader, workflow, segment, 'supervised').size,
      (n) => n > 0,
    );

    const at25 = itemsAt(reader, workflow, segment, 'supervised');
    expect(at25.size / items.length).toBeGreaterThan(0.22);
    expect(at25.size / items.length).toBeLessThan(0.28);
    const shadow = itemsAt(reader, workflow, segment, 'shadow');
    expect(shadow.size + at25.size).toBe(items.length);
    // Same item, same stage, every time.
    for (const id of items.slice(0, 500)) {
      const first = reader.stageFor(workflow, segment, id);
      for (let k = 0; k < 3; k++) expect(reader.stageFor(workflow, segment, id)).toEqual(first);
    }

    await gateway.writeSegmentSplit(workflow, segment, { stage: 'supervised', trafficPct: 50 });
    await within(
      PROPAGATION_DEADLINE_MS,
      () => itemsAt(reader, workflow, segment, 'supervised').size,
      (n) => n > at25.size,
    );
    const at50 = itemsAt(reader, workflow, segment, 'supervised');
    expect(at50.size / items.length).toBeGreaterThan(0.47);
    expect(at50.size / items.length).toBeLessThan(0.53);
    const droppedBack = [...at25].filter((id) => !at50.has(id));
    expect(droppedBack).toEqual([]);
  });

  it('reports humans only when ops disable the flag in Unleash, and the stages again when re-enabled', async () => {
    const workflow = wf('disable');
    await gateway.ensureWorkflowFlag(workflow);
    await gateway.writeSegmentSplit(workflow, 'phone', { stage: 'supervised', trafficPct: 100 });
    const reader = await startedReader();
    await within(
      PROPAGATION_DEADLINE_MS,
      () => reader.stageFor(workflow, 'phone', 'i-7').stage,
      (s) => s === 'supervised',
    );
    expect(reader.workflowEnabled(workflow)).toBe(true);

    // What an operator's click in Unleash's UI does, without any Understudy call.
    const off = await admin('POST', `/api/admin/projects/default/features/${workflowFlagName(workflow)}/environments/development/off`);
    expect(off.status).toBe(200);
    await within(
      PROPAGATION_DEADLINE_MS,
      () => reader.stageFor(workflow, 'phone', 'i-7'),
      (d) => d.stage === null,
    );
    const decision: StageDecision = reader.stageFor(workflow, 'phone', 'i-7');
    expect(decision).toEqual({ stage: null, reason: 'flag-disabled' });
    expect(reader.stageFor(workflow, 'some-other-segment', 'i-8')).toEqual({ stage: null, reason: 'flag-disabled' });
    expect(reader.workflowEnabled(workflow)).toBe(false);
    expect((await gateway.readWorkflowFlag(workflow)).enabled).toBe(false);

    await gateway.setWorkflowEnabled(workflow, true);
    await within(
      PROPAGATION_DEADLINE_MS,
      () => reader.stageFor(workflow, 'phone', 'i-7').stage,
      (s) => s === 'supervised',
    );
  });

  it('reads the kill switch', async () => {
    // Flipped in the `production` environment with a client token made for it, so that other suites
    // sharing this Unleash (development) never see a killed switch.
    const prodGateway = new UnleashAdminGateway({ url, adminToken, environment: 'production' });
    await prodGateway.ensureSetup();
    const token = await admin('POST', '/api/admin/api-tokens', {
      tokenName: `understudy-it-${runId}`,
      type: 'client',
      environment: 'production',
      projects: ['default'],
    });
    expect(token.status).toBe(201);
    try {
      const reader = await startedReader({ clientToken: token.json.secret, environment: 'production' });
      expect(reader.killSwitch()).toBe(false);
      await prodGateway.setKillSwitch(true);
      expect(await prodGateway.readKillSwitch()).toBe(true);
      await within(
        PROPAGATION_DEADLINE_MS,
        () => reader.killSwitch(),
        (k) => k,
      );
      await prodGateway.setKillSwitch(false);
      expect(await prodGateway.readKillSwitch()).toBe(false);
      await within(
        PROPAGATION_DEADLINE_MS,
        () => reader.killSwitch(),
        (k) => !k,
      );
    } finally {
      await prodGateway.setKillSwitch(false);
      await admin('DELETE', `/api/admin/api-tokens/${encodeURIComponent(token.json.secret)}`);
    }
    expect(await gateway.readKillSwitch()).toBe(false);
  });

  it('runs on unknown state (shadow) when Unleash is unreachable and there is no backup', async () => {
    const workflow = wf('unreachable');
    const t0 = Date.now();
    const reader = await startedReader({ url: 'http://127.0.0.1:1', startTimeoutMs: 1500 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(reader.ready()).toBe(false);
    for (const id of items.slice(0, 50)) {
      expect(reader.stageFor(workflow, 'email|eu', id)).toEqual({ stage: 'shadow', reason: 'unknown-state' });
    }
    expect(reader.workflowEnabled(workflow)).toBeNull();
    expect(reader.killSwitch()).toBe(false);
  });

  it('keeps the last known state from its backup file when Unleash is unreachable', async () => {
    const workflow = wf('backup');
    await gateway.ensureWorkflowFlag(workflow);
    const split: SegmentSplit = { stage: 'supervised', trafficPct: 40 };
    await gateway.writeSegmentSplit(workflow, 'email|eu', split);
    const backupPath = tempDir();
    const appName = `understudy-it-backup-${runId}`;

    const online = await startedReader({ backupPath, appName });
    await within(
      PROPAGATION_DEADLINE_MS,
      () => itemsAt(online, workflow, 'email|eu', 'supervised').size,
      (n) => n > 0,
    );
    const expected = items.map((id) => online.stageFor(workflow, 'email|eu', id));
    // unleash-client applies a fetch (and emits 'changed') before its backup file is written: wait
    // for the file to hold the flag, or a busy machine closes the reader before the write lands.
    await within(
      30_000,
      () => backupFlagNames(backupPath),
      (names) => names.includes(workflowFlagName(workflow)),
    );
    await online.close();

    const offline = await startedReader({ url: 'http://127.0.0.1:1', backupPath, appName, startTimeoutMs: 30_000 });
    expect(offline.ready()).toBe(true);
    expect(offline.isSynchronized()).toBe(false);
    expect(items.map((id) => offline.stageFor(workflow, 'email|eu', id))).toEqual(expected);
    expect(offline.workflowEnabled(workflow)).toBe(true);
  });
});
