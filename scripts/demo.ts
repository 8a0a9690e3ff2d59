/**
 * The demo: Understudy's main job on the local stack, in one command (`npm run demo`).
 *
 * Starts the local stack (the local PostgreSQL with a fresh database of the demo's own, the Kafka
 * mock cluster, the real Unleash server, the MODEL SIMULATOR), the service itself as a child
 * process exactly as it runs in production, and a simulated work floor: support tickets and
 * invoices arrive, simulated people decide them. The AI runs in shadow beside them; the segment
 * support-triage / email|eu, where the simulated model is clearly good, climbs shadow →
 * supervised → confidence-routed (a program manager approves the last stage through the API);
 * then the simulated model drifts there and the regression guard reverts it. The live log is the
 * service's own audit log.
 *
 * Usage: see DEMO_USAGE (node dist-tools/scripts/demo.js --help).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { parse as parseYaml } from 'yaml';
import { HumanAgents } from '../tools/simulator/human-agents';
import { WorkFloor } from '../tools/simulator/work-floor';
import { WorkloadGenerator } from '../tools/simulator/workload';
import { findRepoRoot, KafkaControl } from '../test/harness/kafka-cluster';
import { createMigratedDatabase, databaseUrl } from '../test/harness/postgres';
import { localServiceEnvironment } from '../test/harness/service-env';
import { ServiceProcess, tail } from '../test/harness/service-process';
import { Stack, startStack } from '../test/harness/stack';
import { DEMO_USAGE, DemoOptions, DemoUsageError, parseDemoArgs } from './demo/options';
import { AuditEvent, clock, describeAuditEvent, describeSplit, summaryLine } from './demo/narrate';
import { buildPlan, demoWorkflowsYaml, DemoPlan, driftEndPatch, driftPatch, segmentKey, simulatorScenario, weightedSegments } from './demo/plan';

const TOPICS = { workItems: 'work.items', workDecisions: 'work.decisions', routing: 'ai.routing', dlq: 'understudy.dlq', alerts: 'understudy.alerts' };
const PM_NAME = 'demo-program-manager';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class DemoFailure extends Error {}
/** Ctrl-C during the set-up: not a failure. */
class StopRequested extends Error {}

/** Where the story is; each phase names what the demo waits for next (for the timeout message). */
type Phase = 'starting' | 'climbing' | 'at-top' | 'drifting' | 'reverted' | 'finished';
const WAITING_FOR: Record<Phase, string> = {
  starting: 'the local stack and the service',
  climbing: 'the showcase segment to climb to confidence-routed 100 %',
  'at-top': 'the showcase segment to hold at the top before the drift',
  drifting: 'the regression guard to revert the drifted segment',
  reverted: 'the end of the demo',
  finished: 'nothing',
};

interface Timeline {
  workStartedAt?: number;
  firstPromotionAt?: number;
  confidenceRoutedAt?: number;
  topAt?: number;
  driftAt?: number;
  /** The label-free drift monitor's first alarm on the showcase after the drift. */
  alarmAt?: number;
  revertAt?: number;
}

class Demo {
  private readonly root = findRepoRoot(__dirname);
  private readonly dir: string;
  private stack: Stack | null = null;
  private pg: Client | null = null;
  private service: ServiceProcess | null = null;
  private floor: WorkFloor | null = null;
  private traffic: Promise<void> | null = null;
  private stopTraffic = false;
  private shuttingDown: Promise<void> | null = null;
  private setup: Promise<void> | null = null;
  private phase: Phase = 'starting';
  private readonly timeline: Timeline = {};
  private readonly startedAt = Date.now();
  /** Audit ids already shown. Ids are taken at insert but seen at commit, so a later id can show up first. */
  private readonly seenAudit = new Set<number>();
  private auditCursor = 0;
  /** Stage of each workflow/segment, as the audit log tells it. */
  private readonly stages = new Map<string, string>();
  private revertAnnounced = false;
  private readonly approving = new Set<string>();
  private serviceUrl = '';
  private token = '';
  private simulatorBase = '';
  private modelName = '';
  private unleashUrl = '';
  private driftEnded = false;

  constructor(
    private readonly opts: DemoOptions,
    private readonly plan: DemoPlan,
  ) {
    this.dir = path.join(this.root, '.stack', 'demo', opts.database);
  }

  private say(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  private note(line: string): void {
    this.say(`${clock()}  ${line}`);
  }

  private elapsed(at: number | undefined, from = this.timeline.workStartedAt ?? this.startedAt): string {
    return at === undefined ? '—' : `+${Math.round((at - from) / 1000)} s`;
  }

  get stopping(): boolean {
    return this.shuttingDown !== null;
  }

  async run(): Promise<number> {
    this.setup = this.setUp();
    try {
      await this.setup;
    } catch (e) {
      if (e instanceof StopRequested) return 0;
      throw e;
    }
    return this.watch();
  }

  /** Between set-up steps: stop here if Ctrl-C came meanwhile (shutdown waits for the step in progress). */
  private check(): void {
    if (this.shuttingDown) throw new StopRequested();
  }

  private async setUp(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await this.stopLeftovers();
    const plan = this.plan;

    this.note('starting the local stack (PostgreSQL, Kafka mock cluster, Unleash, model simulator)…');
    this.stack = await startStack({
      // Own process groups: Ctrl-C in the terminal reaches the demo only, which then stops the work
      // floor, the service (while Kafka is still up, so it stops cleanly) and the stack, in that order.
      detached: true,
      // A foreign Unleash on the default port makes startStack run ours beside it; an explicit port is taken as is.
      unleashPort: this.opts.unleashPort === 4242 ? undefined : this.opts.unleashPort,
      log: (l) => this.note(`stack: ${l}`),
    });
    writeFileSync(path.join(this.dir, 'kafka.pid'), String(this.stack.info.kafka.pid));
    this.check();
    const info = this.stack.info;
    this.unleashUrl = info.unleash.url;
    this.simulatorBase = info.simulator.url.replace(/\/v1$/, '');

    const dbUrl = databaseUrl(this.opts.database, info.postgres);
    this.note(`database ${this.opts.database}: re-created with the migrations`);
    await createMigratedDatabase(this.opts.database, info.postgres);
    this.pg = new Client({ connectionString: dbUrl });
    await this.pg.connect();
    this.check();

    const control = new KafkaControl(info.kafka.control);
    try {
      await control.createTopics(Object.values(TOPICS).map((name) => ({ name, partitions: 6 })));
    } finally {
      await control.close();
    }

    const workflowsFile = path.join(this.dir, 'workflows.yaml');
    const source = readFileSync(path.join(this.root, 'config', 'workflows.demo.yaml'), 'utf8');
    const yaml = demoWorkflowsYaml(source, plan);
    writeFileSync(workflowsFile, `# Written by the demo from config/workflows.demo.yaml; edit that file, not this one.\n${yaml}`);
    this.modelName = modelOf(yaml);

    if (!plan.realModel) await this.simulator('PUT', simulatorScenario(plan));
    await this.resetFlags(info.unleash.adminToken);
    await this.createToken(dbUrl);
    this.check();
    await this.startService(dbUrl, workflowsFile);
    this.check();
    await this.startWorkFloor(info.kafka.brokers);
    this.check();
    this.banner();
    this.writeState();
    this.phase = 'climbing';
  }

  // --- set-up ------------------------------------------------------------------------------------

  /**
   * What an earlier demo left running when it was killed outright (SIGKILL gives it no chance to
   * stop anything): its service and its Kafka mock cluster, known by their pid files and checked
   * by their command lines, so nothing else is ever touched.
   */
  private async stopLeftovers(): Promise<void> {
    await this.stopLeftover('service.pid', path.join('dist', 'src', 'main.js'), 'service');
    await this.stopLeftover('kafka.pid', path.join('tools', 'kafka-mock', 'kafka-mock'), 'Kafka mock cluster');
  }

  private async stopLeftover(file: string, marker: string, what: string): Promise<void> {
    const pidFile = path.join(this.dir, file);
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    rmSync(pidFile, { force: true });
    if (!Number.isInteger(pid) || pid <= 1) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return; // gone
    }
    if (!cmdline.includes(path.join(this.root, marker))) return; // the pid was reused by something else
    this.note(`stopping the ${what} an earlier demo left running (pid ${pid})`);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await sleep(100);
    if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
  }

  private async simulator(method: 'PUT' | 'PATCH', body: unknown): Promise<void> {
    const r = await fetch(`${this.simulatorBase}/_simulator/scenarios/${encodeURIComponent(this.modelName)}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new DemoFailure(`the model simulator refused the scenario: ${r.status} ${await r.text()}`);
  }

  /**
   * The demo's flags start from nothing: a flag left by an earlier run (at supervised, say) would
   * otherwise be read by the fresh service as an operator's change and adopted.
   */
  private async resetFlags(adminToken: string): Promise<void> {
    const call = async (method: string, p: string, body?: unknown): Promise<Response> =>
      fetch(`${this.unleashUrl}${p}`, {
        method,
        headers: { Authorization: adminToken, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
    for (const workflow of [this.plan.workflows.triage, this.plan.workflows.invoice]) {
      const flag = encodeURIComponent(`understudy.${workflow}`);
      const existing = await call('GET', `/api/admin/projects/default/features/${flag}`);
      if (existing.ok) {
        const archived = await call('DELETE', `/api/admin/projects/default/features/${flag}`);
        if (!archived.ok) throw new DemoFailure(`could not archive the Unleash flag understudy.${workflow}: ${archived.status} ${await archived.text()}`);
        this.note(`unleash: removed the flag understudy.${workflow} an earlier demo run left; the rollout starts from shadow`);
      }
      // An archived flag keeps its name taken: delete it for good (404 when there is none).
      const deleted = await call('DELETE', `/api/admin/archive/${flag}`);
      if (!deleted.ok && deleted.status !== 404)
        throw new DemoFailure(`could not delete the archived Unleash flag understudy.${workflow}: ${deleted.status} ${await deleted.text()}`);
    }
    const ks = await call('GET', `/api/admin/projects/default/features/${encodeURIComponent(this.plan.killSwitchFlag)}`);
    if (ks.ok) {
      const feature = (await ks.json()) as { environments?: Array<{ name: string; enabled: boolean }> };
      if (feature.environments?.find((e) => e.name === 'development')?.enabled) {
        await call('POST', `/api/admin/projects/default/features/${encodeURIComponent(this.plan.killSwitchFlag)}/environments/development/off`);
        this.note(`unleash: the kill switch ${this.plan.killSwitchFlag} was ON (left by someone); turned it off for the demo`);
      }
    }
    rmSync(path.join(this.dir, 'unleash-backup'), { recursive: true, force: true });
  }

  /** A program manager's API token, made with the service's own CLI (as a fresh install makes its first token). */
  private async createToken(dbUrl: string): Promise<void> {
    const cli = path.join(this.root, 'dist', 'src', 'cli', 'create-token.js');
    if (!existsSync(cli)) throw new DemoFailure(`${cli} is missing: run \`npm run build\` first (npm run demo does)`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [cli, '--name', PM_NAME, '--role', 'program_manager'],
        { env: { PATH: process.env.PATH ?? '', DATABASE_URL: dbUrl }, timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new DemoFailure(`create-token failed: ${stderr || stdout || err.message}`)) : resolve(stdout)),
      ),
    );
    const token = out
      .trim()
      .split(/\s+/)
      .reverse()
      .find((w) => /^us_[A-Za-z0-9_-]{20,}$/.test(w));
    if (!token) throw new DemoFailure(`create-token printed no token: ${out.trim().slice(0, 200)}`);
    this.token = token;
  }

  private async choosePort(): Promise<number> {
    const free = (port: number) =>
      new Promise<number | null>((resolve) => {
        const srv = createServer();
        srv.once('error', () => resolve(null));
        srv.listen(port, '127.0.0.1', () => {
          const p = (srv.address() as AddressInfo).port;
          srv.close(() => resolve(p));
        });
      });
    if (this.opts.port !== null && this.opts.port !== 0) {
      const p = await free(this.opts.port);
      if (p === null) throw new DemoFailure(`port ${this.opts.port} is taken; choose another with --port`);
      return p;
    }
    if (this.opts.port === null) {
      const p = await free(3000);
      if (p !== null) return p;
      this.note('port 3000 is taken; the service gets a free port');
    }
    return (await free(0))!;
  }

  private async startService(dbUrl: string, workflowsFile: string): Promise<void> {
    const info = this.stack!.info;
    const port = await this.choosePort();
    const plan = this.plan;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...localServiceEnvironment({
        stack: info,
        nodeEnv: 'production',
        instanceId: `demo-${this.opts.database}`,
        port,
        databaseUrl: dbUrl,
        topics: TOPICS,
        groupId: 'understudy-demo',
        killSwitchFlag: plan.killSwitchFlag,
        unleashBackupPath: path.join(this.dir, 'unleash-backup'),
        workflowsFile,
        unleashRefreshMs: plan.unleashRefreshMs,
        controllerIntervalMs: plan.controllerIntervalMs,
        model: plan.realModel
          ? { MODEL_BASE_URL: process.env.MODEL_BASE_URL!, MODEL_API_KEY: process.env.MODEL_API_KEY!, MODEL_TIMEOUT_MS: '30000', MODEL_CONCURRENCY: '8' }
          : undefined,
      }),
      // A model of your own with a cost budget needs its price (the service refuses to start without it).
      ...(process.env.MODEL_PRICES_JSON ? { MODEL_PRICES_JSON: process.env.MODEL_PRICES_JSON } : {}),
    };
    const logFile = path.join(this.dir, 'service.log');
    // Its own process group: Ctrl-C reaches the demo, which stops the work floor first and then the
    // service, instead of everything at once.
    let child: ServiceProcess;
    try {
      child = ServiceProcess.start({ root: this.root, env, logFile, logMode: 'w', detached: true });
    } catch (e) {
      throw new DemoFailure(`${(e as Error).message} (npm run demo does)`);
    }
    this.service = child;
    writeFileSync(path.join(this.dir, 'service.pid'), String(child.pid));
    void child.whenExited().then(() => {
      if (!this.shuttingDown) this.note(`the service exited (${child.exitInfo}); its log: ${logFile}`);
    });
    this.serviceUrl = `http://127.0.0.1:${port}`;
    this.note(`starting the service (node dist/src/main.js, pid ${child.pid}) on ${this.serviceUrl}; its log: ${path.relative(process.cwd(), logFile)}`);
    try {
      await child.waitHealthy(this.serviceUrl, 120_000, () => this.check());
    } catch (e) {
      if (e instanceof StopRequested) throw e;
      throw new DemoFailure((e as Error).message);
    }
    this.note('the service is up and healthy');
  }

  private async startWorkFloor(brokers: string[]): Promise<void> {
    const plan = this.plan;
    const kafka = new Kafka({ clientId: 'demo-work-floor', brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const generator = new WorkloadGenerator({
      seed: 20261123,
      triageWorkflow: plan.workflows.triage,
      invoiceWorkflow: plan.workflows.invoice,
      triageShare: plan.triageShare,
      triageSegments: weightedSegments(plan.triage),
      invoiceSegments: weightedSegments(plan.invoice),
      idPrefix: `demo-${Date.now().toString(36)}-`,
      startAt: new Date(),
      gapMs: 1000 / plan.rate,
    });
    this.floor = new WorkFloor({
      kafka,
      topics: { workItems: TOPICS.workItems, workDecisions: TOPICS.workDecisions, routing: TOPICS.routing },
      generator,
      agents: new HumanAgents({ seed: 11, errorRate: plan.humanErrorRate, acceptWrongRate: plan.acceptWrongRate, actors: plan.agents }),
      thinkTimeMs: plan.thinkTimeMs,
      groupId: 'demo-work-floor',
      log: (l) => this.note(l),
    });
    this.note('the work floor joins Kafka…');
    await this.floor.start();
    this.timeline.workStartedAt = Date.now();
    this.traffic = this.publish(generator).catch((e: unknown) => {
      if (!this.shuttingDown) this.note(`work floor stopped: ${(e as Error).message}`);
    });
  }

  /** Work items at the plan's rate, any rate (WorkFloor.run sends at least one item per 100 ms). */
  private async publish(generator: WorkloadGenerator): Promise<void> {
    const started = Date.now();
    let sent = 0;
    while (!this.stopTraffic) {
      let due = Math.floor(((Date.now() - started) / 1000) * this.plan.rate) - sent;
      // After a stall (a slow broker), carry on at the rate rather than in one burst.
      const burst = Math.max(1, Math.ceil(this.plan.rate));
      if (due > burst) {
        sent += due - burst;
        due = burst;
      }
      if (due > 0) {
        await this.floor!.send(generator.batch(due));
        sent += due;
      }
      await sleep(100);
    }
  }

  private banner(): void {
    const p = this.plan;
    const pct = (x: number) => `${Math.round(x * 100)} %`;
    const mix = (list: typeof p.triage) => list.map((m) => `${segmentKey(m)} ${pct(m.accuracy)}`).join(', ');
    const rule = '='.repeat(100);
    const lines = [
      rule,
      ` Understudy demo${p.fast ? ' (fast mode)' : ''} — the service runs on the local stack`,
      '',
      ` Dashboard (program manager):  ${this.serviceUrl}/?token=${this.token}`,
      ` API:                          ${this.serviceUrl}/api   (Authorization: Bearer ${this.token})   docs: ${this.serviceUrl}/docs`,
      ` Unleash:                      ${this.unleashUrl}   login admin / unleash4all   flags understudy.${p.workflows.triage}, understudy.${p.workflows.invoice}`,
      ` Database:                     ${databaseUrl(this.opts.database, this.stack!.info.postgres)}`,
      ` Service log:                  ${path.relative(process.cwd(), path.join(this.dir, 'service.log'))}`,
      '',
      ` Work floor (simulated): ${p.agents} agents, ~${p.rate} items/s — ${pct(p.triageShare)} support tickets, the rest invoices and claims;`,
      `   people err on ${pct(p.humanErrorRate)} of their decisions, take ~${p.thinkTimeMs / 1000} s per item, review what the AI suggests and audit a sample.`,
      p.realModel
        ? ` Model: a REAL model at ${process.env.MODEL_BASE_URL} (${this.modelName}). Every item is a paid call. No drift phase with a real model.`
        : ` Model: the MODEL SIMULATOR (a stand-in that answers from planted ground truth, not a model), accuracy per segment:\n   ${p.workflows.triage}: ${mix(p.triage)}\n   ${p.workflows.invoice}: ${mix(p.invoice)}`,
      ` The story: ${p.showcase.workflow} / ${p.showcase.segment} climbs shadow → supervised → confidence-routed (the demo's program`,
      `   manager approves that last stage through the API, as a person would on the dashboard)${p.realModel ? '.' : `; then the model drifts there`}`,
      p.realModel
        ? ''
        : `   (accuracy ${pct(p.driftAccuracy)}) and the regression guard reverts it. Gates: config/workflows.demo.yaml${p.fast ? ' with fast-mode overrides' : ''}.`,
      ' Ctrl-C stops everything the demo started.',
      rule,
    ].filter((l) => l !== '');
    this.say(lines.join('\n'));
  }

  private writeState(extra: Record<string, unknown> = {}): void {
    if (!this.opts.stateFile) return;
    const info = this.stack!.info;
    const state = {
      pid: process.pid,
      serviceUrl: this.serviceUrl,
      servicePid: this.service?.pid ?? null,
      token: this.token,
      database: this.opts.database,
      databaseUrl: databaseUrl(this.opts.database, info.postgres),
      unleash: { url: info.unleash.url, adminToken: info.unleash.adminToken },
      kafka: info.kafka,
      simulator: info.simulator.url,
      workflows: this.plan.workflows,
      killSwitchFlag: this.plan.killSwitchFlag,
      showcase: this.plan.showcase,
      phase: this.phase,
      timeline: this.timeline,
      ...extra,
    };
    writeFileSync(this.opts.stateFile, JSON.stringify(state, null, 2));
  }

  // --- the live part -----------------------------------------------------------------------------

  private async watch(): Promise<number> {
    let nextSummary = Date.now() + this.plan.summaryEveryMs;
    let lastStats = { at: Date.now(), items: 0, decisions: 0 };
    for (;;) {
      if (this.shuttingDown) return 0;
      try {
        await this.step();
      } catch (e) {
        if (this.shuttingDown) return 0;
        throw e;
      }
      if (this.phase === 'finished') return this.finish();
      if (Date.now() >= nextSummary) {
        nextSummary = Date.now() + this.plan.summaryEveryMs;
        const s = this.floor!.stats;
        const dt = Math.max(1, Date.now() - lastStats.at) / 1000;
        await this.summary((s.itemsSent - lastStats.items) / dt, (s.decisionsSent - lastStats.decisions) / dt).catch(() => undefined);
        lastStats = { at: Date.now(), items: s.itemsSent, decisions: s.decisionsSent };
      }
      await sleep(1000);
    }
  }

  private async step(): Promise<void> {
    if (this.service?.exited())
      throw new DemoFailure(
        `the service stopped unexpectedly; its log ${path.join(this.dir, 'service.log')}:\n${tail(path.join(this.dir, 'service.log'), 30)}`,
      );
    await this.readAudit();
    await this.advance();
    if (this.plan.timeoutMs !== null && Date.now() - this.startedAt > this.plan.timeoutMs) {
      const s = await this.showcaseRow();
      const verdict = s?.lastVerdict as { verdict?: string; summary?: string; holdReason?: string | null } | null;
      throw new DemoFailure(
        `timed out after ${Math.round(this.plan.timeoutMs / 1000)} s waiting for ${WAITING_FOR[this.phase]}; ` +
          `${this.plan.showcase.segment} is at ${s ? describeSplit(s) : 'not seen yet'}` +
          (verdict ? ` (gate: ${verdict.verdict}: ${verdict.holdReason ?? verdict.summary ?? ''})` : ''),
      );
    }
  }

  private async readAudit(): Promise<void> {
    const { rows } = await this.pg!.query<AuditEvent & { n: number }>(
      `SELECT id::int8 AS n, id::text AS id, at, actor, actor_kind AS "actorKind", action, workflow, segment, reason, details
       FROM audit_events WHERE id > $1 ORDER BY audit_events.id LIMIT 500`,
      [Math.max(0, this.auditCursor - 200)],
    );
    for (const e of rows) {
      const n = Number(e.n);
      if (this.seenAudit.has(n)) continue;
      this.seenAudit.add(n);
      if (this.seenAudit.size > 5000) for (const old of this.seenAudit) if (old < this.auditCursor - 1000) this.seenAudit.delete(old);
      this.auditCursor = Math.max(this.auditCursor, n);
      const to = (e.details as { to?: { stage: string } }).to;
      if (to && e.workflow && e.segment) this.stages.set(`${e.workflow}/${e.segment}`, to.stage);
      const line = describeAuditEvent(e);
      if (line && (e.action !== 'threshold.changed' || this.thresholdMatters(e))) this.say(line);
      this.react(e);
    }
  }

  /**
   * Thresholds only route segments in confidence-routed; elsewhere their coming and going is
   * noise in a live log (the API and the dashboard have them all). The showcase's are shown.
   */
  private thresholdMatters(e: AuditEvent): boolean {
    if (e.workflow === this.plan.showcase.workflow && e.segment === this.plan.showcase.segment) return true;
    return this.stages.get(`${e.workflow}/${e.segment}`) === 'confidence-routed';
  }

  private react(e: AuditEvent): void {
    const show = this.plan.showcase;
    const isShowcase = e.workflow === show.workflow && e.segment === show.segment;
    const to = (e.details as { to?: { stage: string; trafficPct: number } }).to;
    if (e.action === 'segment.awaiting-approval' && e.workflow && e.segment) {
      void this.approveLater(e.workflow, e.segment);
    }
    if (!isShowcase) return;
    const at = new Date(e.at).getTime();
    if (e.action === 'stage.promoted' && to) {
      this.timeline.firstPromotionAt ??= at;
      if (to.stage === 'confidence-routed') this.timeline.confidenceRoutedAt ??= at;
      if (to.stage === 'confidence-routed' && to.trafficPct === 100 && this.phase === 'climbing') {
        this.timeline.topAt = at;
        this.phase = 'at-top';
        this.say(
          this.plan.realModel
            ? `${clock()}  ▶ ${show.segment} is at the top of the ladder: confident decisions go out automatically, the rest to review.`
            : `${clock()}  ▶ ${show.segment} is at the top: confident decisions go out automatically, the rest to review, a sample to blind audit. The model drifts in ${Math.round(this.plan.holdAtTopMs / 1000)} s.`,
        );
        this.writeState();
      }
    }
    if (e.action === 'monitor.alarm' && this.phase === 'drifting' && this.timeline.alarmAt === undefined) {
      this.timeline.alarmAt = at;
      this.say(
        `${clock()}  ▶ EARLY WARNING ${Math.round((at - (this.timeline.driftAt ?? at)) / 1000)} s into the drift, before any label: the AI's answers and confidence moved. ` +
          `${show.segment}'s blind audit share is raised so the regression guard hears more.`,
      );
    }
    if (e.action === 'stage.reverted') {
      if (this.phase === 'drifting') {
        this.timeline.revertAt = at;
        this.phase = 'reverted';
        this.writeState();
      } else {
        this.say(`${clock()}  ▶ ${show.segment} was reverted before any drift was injected (the guard saw a drop in agreement); the demo waits.`);
      }
    }
  }

  /** The demo's program manager approves a step the gate holds for, after a moment's look. */
  private async approveLater(workflow: string, segment: string): Promise<void> {
    const key = `${workflow}/${segment}`;
    if (this.approving.has(key)) return;
    this.approving.add(key);
    try {
      await sleep(this.plan.approveDelayMs);
      if (this.shuttingDown) return;
      const route = `/api/workflows/${encodeURIComponent(workflow)}/segments/${encodeURIComponent(segment)}/approve`;
      const url = `${this.serviceUrl}${route}`;
      this.note(`  the demo's program manager has looked at the gate and approves: POST ${route}`);
      const reason = 'Reviewed the gate on the dashboard: agreement, override and error rates hold. Approved.';
      const r = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!r.ok) this.note(`  approving ${key} was refused: ${r.status} ${(await r.text()).slice(0, 300)}`);
    } catch (e) {
      if (!this.shuttingDown) this.note(`  approving ${key} failed: ${(e as Error).message}`);
    } finally {
      this.approving.delete(key);
    }
  }

  /** Moves the story on: the drift after a while at the top, its end, the finish. */
  private async advance(): Promise<void> {
    const now = Date.now();
    const plan = this.plan;
    if (this.phase === 'at-top' && now - (this.timeline.topAt ?? now) >= plan.holdAtTopMs) {
      if (plan.realModel) {
        this.say(`${clock()}  ▶ With a real model there is no drift to inject; the demo keeps running. Ctrl-C to stop.`);
        this.phase = plan.finishAfterRevert ? 'finished' : 'reverted';
        return;
      }
      await this.simulator('PATCH', driftPatch(plan, new Date()));
      this.timeline.driftAt = Date.now();
      this.phase = 'drifting';
      this.say(
        `${clock()}  ▶ DRIFT: the simulated model's accuracy in ${plan.showcase.segment} drops to ${Math.round(plan.driftAccuracy * 100)} % ` +
          `(PATCH ${this.simulatorBase}/_simulator/scenarios/${this.modelName}); people start overriding it…`,
      );
      this.writeState();
    }
    if (this.phase === 'reverted' && !this.revertAnnounced && this.timeline.revertAt) {
      this.revertAnnounced = true;
      const { rows } = await this.pg!.query<{ n: number }>(`SELECT count(*)::int AS n FROM rereview_items WHERE workflow = $1 AND segment = $2`, [
        plan.showcase.workflow,
        plan.showcase.segment,
      ]);
      this.say(
        `${clock()}  ▶ The guard caught the drift ${Math.round((this.timeline.revertAt - (this.timeline.driftAt ?? this.timeline.revertAt)) / 1000)} s after it began and flipped the flag back in Unleash; ` +
          `${plan.showcase.segment} stays locked until a person resumes it.\n` +
          `           ${rows[0]?.n ?? 0} items the AI had decided on its own in the regressed window are on the re-review list for people (flipping a flag does not undo them).`,
      );
      if (!plan.finishAfterRevert) this.say(`           ${this.timelineText()}`);
    }
    if (this.phase === 'reverted') {
      if (plan.finishAfterRevert) {
        this.phase = 'finished';
        return;
      }
      if (!this.driftEnded && plan.driftEndsAfterMs !== null && this.timeline.revertAt && now - this.timeline.revertAt >= plan.driftEndsAfterMs) {
        this.driftEnded = true;
        await this.simulator('PATCH', driftEndPatch());
        const seg = encodeURIComponent(plan.showcase.segment);
        this.say(
          `${clock()}  ▶ The drift is over (the simulated model is back to its old accuracy). ${plan.showcase.segment} stays locked until a program manager\n` +
            `           resumes it — on the dashboard, or: curl -X POST -H 'Authorization: Bearer ${this.token}' -H 'Content-Type: application/json' \\\n` +
            `             -d '{"reason":"model fixed"}' ${this.serviceUrl}/api/workflows/${plan.showcase.workflow}/segments/${seg}/resume\n` +
            `           The demo keeps running; Ctrl-C stops it.`,
        );
      }
    }
  }

  private async showcaseRow(): Promise<{
    stage: string;
    trafficPct: number;
    paused: boolean;
    pauseKind: string | null;
    lastVerdict: Record<string, unknown> | null;
  } | null> {
    const { rows } = await this.pg!.query(
      `SELECT stage, traffic_pct::float8 AS "trafficPct", paused, pause_kind AS "pauseKind", last_verdict AS "lastVerdict" FROM segments WHERE workflow = $1 AND segment = $2`,
      [this.plan.showcase.workflow, this.plan.showcase.segment],
    );
    return rows[0] ?? null;
  }

  private async summary(itemsPerSecond: number, decisionsPerSecond: number): Promise<void> {
    const { rows } = await this.pg!.query<{ workflow: string; n: number; agree: number }>(
      `SELECT workflow, sum(n)::float8 AS n, sum(agree)::float8 AS agree FROM rollup_minute
       WHERE minute >= date_trunc('minute', now() - interval '1 minute') GROUP BY workflow ORDER BY workflow`,
    );
    const s = await this.showcaseRow();
    this.say(
      summaryLine({
        now: new Date(),
        itemsPerSecond,
        decisionsPerSecond,
        agreement: rows,
        routed: this.floor!.stats.routed,
        showcase: s
          ? {
              segment: this.plan.showcase.segment,
              stage: s.stage,
              trafficPct: s.trafficPct,
              paused: s.paused,
              pauseKind: s.pauseKind,
              verdict: (s.lastVerdict?.verdict as string | undefined) ?? null,
            }
          : null,
      }),
    );
  }

  private timelineText(): string {
    const t = this.timeline;
    return (
      `timeline from the first work item: first promotion ${this.elapsed(t.firstPromotionAt)}, confidence-routed ${this.elapsed(t.confidenceRoutedAt)}, ` +
      `top ${this.elapsed(t.topAt)}, drift ${this.elapsed(t.driftAt)}, early warning ${this.elapsed(t.alarmAt)}, revert ${this.elapsed(t.revertAt)} (set-up took ${Math.round(((t.workStartedAt ?? this.startedAt) - this.startedAt) / 1000)} s)`
    );
  }

  private async finish(): Promise<number> {
    this.stopTraffic = true;
    await this.traffic;
    this.say(`${clock()}  DEMO COMPLETE — ${this.timelineText()}`);
    this.writeState({ finished: true });
    if (this.opts.hold) {
      this.note('holding everything up until stdin closes (--hold)');
      await new Promise<void>((resolve) => {
        process.stdin.on('end', resolve);
        process.stdin.on('close', resolve);
        process.stdin.resume();
      });
    }
    return 0;
  }

  // --- stopping ----------------------------------------------------------------------------------

  shutdown(reason: string): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.note(`stopping (${reason}): work floor, service, local stack…`);
      await this.setup?.catch(() => undefined);
      this.stopTraffic = true;
      await withTimeout(this.traffic ?? Promise.resolve(), 5000);
      await withTimeout(this.floor?.stop() ?? Promise.resolve(), 10_000);
      await this.stopService();
      await this.pg?.end().catch(() => undefined);
      await this.stack?.stop().catch((e: unknown) => this.note(`stopping the stack: ${(e as Error).message}`));
      rmSync(path.join(this.dir, 'service.pid'), { force: true });
      rmSync(path.join(this.dir, 'kafka.pid'), { force: true });
      this.note('stopped; nothing the demo started is left running');
    })();
    return this.shuttingDown;
  }

  private async stopService(): Promise<void> {
    await this.service?.stop({ killAfterMs: 20_000, onKill: () => this.note('the service did not stop within 20 s; killing it') });
  }

  /** A second Ctrl-C: no more waiting. */
  forceStop(): void {
    void this.service?.kill();
  }
}

/** The model name the workflows ask for (both use the same one). */
function modelOf(yaml: string): string {
  const doc = parseYaml(yaml) as { workflows: Array<{ model: { name: string } }> };
  return doc.workflows[0]!.model.name;
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

async function main(): Promise<void> {
  let opts: DemoOptions;
  try {
    opts = parseDemoArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof DemoUsageError) {
      console.error(`demo: ${e.message}\n\n${DEMO_USAGE}`);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    console.log(DEMO_USAGE);
    return;
  }
  const realModel = !!process.env.MODEL_BASE_URL && !!process.env.MODEL_API_KEY;
  const demo = new Demo(opts, buildPlan(opts, realModel));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      console.log(`${clock()}  ${signal} again: killing the service now and exiting`);
      demo.forceStop();
      void withTimeout(demo.shutdown(signal), 5000).then(() => process.exit(1));
      return;
    }
    void demo.shutdown(`${signal}`).then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let code: number;
  try {
    code = await demo.run();
  } catch (e) {
    if (demo.stopping) {
      code = 0;
    } else {
      const message = e instanceof DemoFailure ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
      console.error(`${clock()}  DEMO FAILED: ${message}`);
      code = 1;
    }
  }
  await demo.shutdown(code === 0 ? 'finished' : 'failed');
  process.exit(code);
}

void main();
