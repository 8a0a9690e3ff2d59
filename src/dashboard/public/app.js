/*
 * Understudy's dashboard: plain browser JavaScript, no build step. It only reads and calls the
 * service's REST API with the signed-in person's bearer token; every number it shows comes from
 * the API as is, and every action it offers is one the API allows the person's role.
 */
'use strict';

(() => {
  const TOKEN_KEY = 'understudy.token';
  const REFRESH_MS = 5000;

  /** What each role may do (admin may do everything); mirrors the API's @Roles. */
  const ROLE_ACTIONS = {
    program_manager: ['promote', 'approve', 'hold', 'resume', 'rollback', 'kill-switch'],
    ops: ['rollback', 'kill-switch'],
    analyst: [],
    admin: ['promote', 'approve', 'hold', 'resume', 'rollback', 'kill-switch'],
  };
  const REPORT_ROLES = ['analyst', 'program_manager', 'admin'];
  const AUDIT_ROLES = ['analyst', 'program_manager', 'ops', 'admin'];
  const ROLE_LABEL = { program_manager: 'program manager', ops: 'ops', analyst: 'analyst', admin: 'admin' };
  const STAGE_LABEL = { shadow: 'Shadow', supervised: 'Supervised', 'confidence-routed': 'Confidence-routed' };
  const STAGE_MEANING = {
    shadow: 'The AI runs beside people; nothing it decides leaves Understudy.',
    supervised: 'People see the AI’s suggestion on the items in the split and accept or override it.',
    'confidence-routed': 'Above the confidence threshold the AI decides; below it people review; a sample is audited blind.',
  };
  const VERDICT = {
    pass: { label: 'Gate holds', tone: 'good' },
    fail: { label: 'Gate fails', tone: 'bad' },
    inconclusive: { label: 'Not enough evidence yet', tone: 'wait' },
    'awaiting-approval': { label: 'Awaiting approval', tone: 'info' },
    top: { label: 'At the top', tone: 'good' },
  };
  const CRITERION_LABEL = {
    'minimum-sample': 'Sample size',
    'minimum-dwell': 'Time at this step',
    agreement: 'Agreement with people',
    'override-rate': 'Override rate',
    'error-rate': 'Model error rate',
    budget: 'Budget',
    approval: 'Approval',
    threshold: 'Confidence threshold',
  };
  const GROUP_BY = [
    ['segment', 'Segment'],
    ['day', 'Day'],
    ['version', 'Workflow version'],
    ['model', 'Model'],
    ['promptVersion', 'Prompt version'],
  ];
  const PERIODS = [
    ['1', 'Last 24 hours'],
    ['7', 'Last 7 days'],
    ['30', 'Last 30 days'],
    ['90', 'Last 90 days'],
  ];

  const state = {
    token: null,
    me: null,
    killSwitch: null,
    workflows: [],
    segments: {},
    report: { workflow: null, groupBy: 'segment', segment: '', days: '7', fieldsOpen: false },
    /** Audit events whose numbers are unfolded, kept open across refreshes. */
    openEvents: new Set(),
    dialogOpen: false,
    refreshing: false,
    charts: {},
    detailKey: null,
  };

  // ---------- small helpers ----------

  /** h('div', {class: 'x', 'data-testid': 'y', onclick: fn}, child, 'text', …) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  const $ = (id) => document.getElementById(id);
  /** Replaces an element's children (arrays flattened, empty values skipped). */
  const fill = (el, ...children) => el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const pct = (v, digits = 1) => (isNum(v) ? `${(v * 100).toFixed(digits)} %` : '—');
  const pts = (v) => `${(Math.abs(v) * 100).toFixed(1)} pts`;
  const int = (v) => (isNum(v) ? Math.round(v).toLocaleString('en') : '—');
  const usd = (v, digits = 4) => (isNum(v) ? `$${v.toFixed(digits)}` : '—');
  /** 0.847, 0.888 → "84.7–88.8 %" */
  const range = (lo, hi) => (isNum(lo) && isNum(hi) ? `${(lo * 100).toFixed(1)}–${(hi * 100).toFixed(1)} %` : '—');
  const ms = (v) => (isNum(v) ? `${Math.round(v).toLocaleString('en')} ms` : '—');

  function duration(msValue) {
    if (!isNum(msValue)) return '—';
    const s = Math.max(0, Math.round(msValue / 1000));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min`;
    const hrs = Math.floor(m / 60);
    if (hrs < 48) return `${hrs} h ${m % 60} min`;
    return `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
  }

  function ago(iso) {
    if (!iso) return 'never';
    const t = new Date(iso).getTime();
    return `${duration(Date.now() - t)} ago`;
  }

  function when(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return d.toLocaleString('en-GB', { day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function split(s) {
    if (!s) return '—';
    return s.stage === 'shadow' ? 'shadow' : `${s.stage} ${s.trafficPct} %`;
  }

  const can = (action) => !!state.me && (ROLE_ACTIONS[state.me.role] || []).includes(action);
  const mayRead = (roles) => !!state.me && roles.includes(state.me.role);
  const segmentHref = (w, s) => `#/segment/${encodeURIComponent(w)}/${encodeURIComponent(s)}`;

  // ---------- the API ----------

  class ApiError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function call(path, options = {}) {
    const headers = { authorization: `Bearer ${state.token}`, accept: options.accept || 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method: options.method || 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    } catch (e) {
      throw new ApiError(0, `The service does not answer (${e.message}).`, 'NETWORK');
    }
    if (res.status === 401) {
      signOut('Your token was not accepted (unknown, revoked or missing). Please sign in again.');
      throw new ApiError(401, 'signed out', 'UNAUTHENTICATED');
    }
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      let code = `HTTP_${res.status}`;
      try {
        const body = await res.json();
        if (body && body.error) {
          message = body.error.message || message;
          code = body.error.code || code;
        }
      } catch {
        // not JSON: keep the status line
      }
      throw new ApiError(res.status, message, code);
    }
    return options.raw ? res : res.json();
  }

  const q = (params) =>
    Object.entries(params)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');

  // ---------- messages ----------

  function showError(e, prefix) {
    if (e instanceof ApiError && e.status === 401) return;
    let text = e instanceof Error ? e.message : String(e);
    if (e instanceof ApiError && e.status === 403) text = `Not allowed for your role (${ROLE_LABEL[state.me?.role] || 'unknown'}): ${text}`;
    $('error-text').textContent = prefix ? `${prefix}: ${text}` : text;
    $('error').hidden = false;
  }

  function clearError() {
    $('error').hidden = true;
    $('error-text').textContent = '';
  }

  // ---------- signing in and out ----------

  /**
   * The sign-in link `/?token=…` never reaches this page: the service answers it with a redirect to
   * the address without the token and hands the token over in a one-minute cookie, moved here to
   * session storage and deleted before anything else is called.
   */
  function takeHandedOverToken() {
    const name = 'understudy_token_handoff';
    const entry = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
    if (!entry) return;
    document.cookie = `${name}=; Path=/; Max-Age=0; SameSite=Strict`;
    const token = decodeURIComponent(entry.slice(name.length + 1));
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
  }

  function showSignIn(message) {
    $('app').hidden = true;
    $('sign-in').hidden = false;
    $('sign-in-message').textContent = message || '';
    $('token-input').value = '';
    $('token-input').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.me = null;
    destroyCharts();
    if (state.dialogOpen) closeDialog();
    showSignIn(message || 'You are signed out.');
  }

  async function start() {
    state.token = sessionStorage.getItem(TOKEN_KEY);
    if (!state.token) return showSignIn('');
    try {
      state.me = await call('/api/me');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      if (e instanceof ApiError && e.status === 403) {
        sessionStorage.removeItem(TOKEN_KEY);
        return showSignIn(`This token's role may not use the dashboard: ${e.message}`);
      }
      return showSignIn(e.message);
    }
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('signed-in-as').textContent = `${state.me.name} · ${ROLE_LABEL[state.me.role] || state.me.role}`;
    $('nav-reports').hidden = !mayRead(REPORT_ROLES);
    await route();
  }

  // ---------- pages ----------

  function parseRoute() {
    const parts = window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'segment' && parts.length === 3) return { page: 'segment', workflow: parts[1], segment: parts[2] };
    if (parts[0] === 'reports') return { page: 'reports' };
    return { page: 'board' };
  }

  async function route() {
    if (!state.me) return;
    const r = parseRoute();
    document.querySelectorAll('[data-nav]').forEach((a) => a.setAttribute('aria-current', a.dataset.nav === r.page ? 'page' : 'false'));
    destroyCharts();
    state.detailKey = null;
    const main = $('main');
    fill(main, h('p', { class: 'muted loading' }, 'Loading…'));
    await refresh(true);
  }

  /** Re-reads what the current page shows; `first` builds the page, later calls update it in place. */
  async function refresh(first = false) {
    if (!state.me || state.refreshing) return;
    if (!first && state.dialogOpen) return;
    state.refreshing = true;
    try {
      const r = parseRoute();
      await loadKillSwitch();
      if (r.page === 'reports') await renderReports(first);
      else if (r.page === 'segment') await renderSegmentPage(r.workflow, r.segment, first);
      else await renderBoard();
      $('refreshed').textContent = `Updated ${new Date().toLocaleTimeString('en-GB')} · refreshes every ${REFRESH_MS / 1000} s`;
    } catch (e) {
      showError(e);
    } finally {
      state.refreshing = false;
    }
  }

  async function loadKillSwitch() {
    try {
      state.killSwitch = (await call('/api/kill-switch')).enabled;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      state.killSwitch = null;
    }
    const box = $('kill-switch');
    const on = state.killSwitch === true;
    const focused = rememberFocus();
    fill(
      box,
      h(
        'span',
        { class: `pill ${on ? 'bad' : state.killSwitch === null ? 'wait' : 'good'}`, 'data-testid': 'kill-switch-state' },
        state.killSwitch === null ? 'Kill switch: unknown' : on ? 'Kill switch ON' : 'Kill switch off',
      ),
      can('kill-switch') && state.killSwitch !== null
        ? h(
            'button',
            {
              type: 'button',
              class: on ? 'primary' : 'danger',
              'data-testid': 'kill-switch-toggle',
              'data-focus': 'kill-switch',
              onclick: () => openKillSwitchDialog(!on),
            },
            on ? 'Release kill switch' : 'Pull kill switch',
          )
        : null,
    );
    if (focused === 'kill-switch') restoreFocus(focused);
    const banner = $('kill-banner');
    banner.hidden = !on;
    banner.textContent = on
      ? 'The kill switch is ON: nothing leaves Understudy for any workflow. People handle every item; the AI may keep running in shadow.'
      : '';
  }

  // ----- board -----

  async function loadBoard() {
    const workflows = await call('/api/workflows');
    const [lists, risk] = await Promise.all([
      Promise.all(workflows.map((w) => call(`/api/workflows/${encodeURIComponent(w.workflow)}/segments`))),
      call('/api/rollout/risk'),
    ]);
    state.workflows = workflows;
    state.risk = risk;
    workflows.forEach((w, i) => (state.segments[w.workflow] = lists[i]));
  }

  async function renderBoard() {
    await loadBoard();
    const focus = rememberFocus();
    const main = $('main');
    const total = Object.values(state.segments).reduce((n, l) => n + l.length, 0);
    fill(
      main,
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Rollout board'),
        h(
          'p',
          { class: 'muted' },
          `${state.workflows.length} workflow${state.workflows.length === 1 ? '' : 's'}, ${total} segment${total === 1 ? '' : 's'}. Each segment moves shadow → supervised → confidence-routed only when its gate holds; the regression guard moves it back.`,
        ),
        state.risk ? h('p', { class: 'small', 'data-testid': 'rollout-risk' }, `Risk of the rollout: ${state.risk.summary}`) : null,
      ),
      // Workflows with segments first; the others are listed after them.
      [...state.workflows]
        .sort((a, b) => Number((state.segments[b.workflow] || []).length > 0) - Number((state.segments[a.workflow] || []).length > 0))
        .map((w) => workflowSection(w, state.segments[w.workflow] || [])),
    );
    restoreFocus(focus);
  }

  function workflowSection(w, segments) {
    return h(
      'section',
      { class: 'workflow', 'data-testid': 'workflow', 'data-workflow': w.workflow, 'aria-labelledby': `wf-${w.workflow}` },
      h(
        'header',
        { class: 'workflow-head' },
        h('h2', { id: `wf-${w.workflow}` }, w.title || w.workflow, ' ', h('code', { class: 'muted' }, w.workflow)),
        h(
          'p',
          { class: 'muted small' },
          `Champion v${w.champion.version}: model ${w.champion.model}, prompt ${w.champion.promptVersion}`,
          w.challengers.length ? ` · challengers in shadow: ${w.challengers.map((c) => `v${c.version} (${c.model}, ${c.promptVersion})`).join(', ')}` : '',
          ` · segments by ${w.segmentBy.join(', ')}`,
        ),
      ),
      segments.length
        ? h(
            'div',
            { class: 'cards' },
            segments.map((s) => segmentCard(s, { link: true })),
          )
        : h('p', { class: 'muted empty' }, 'No segments yet: they appear with the first work items of this workflow.'),
    );
  }

  function segmentCard(s, opts = {}) {
    const gate = s.gate;
    const key = `${s.workflow}|${s.segment}`;
    return h(
      'article',
      {
        class: `card stage-${s.stage}`,
        'data-testid': 'segment-card',
        'data-workflow': s.workflow,
        'data-segment': s.segment,
        'data-stage': s.stage,
        'data-traffic': s.trafficPct,
        'aria-label': `Segment ${s.segment}`,
      },
      h(
        'header',
        { class: 'card-head' },
        h('h3', {}, s.segment),
        h(
          'span',
          { class: `stage-badge stage-${s.stage}`, 'data-testid': 'stage' },
          STAGE_LABEL[s.stage] || s.stage,
          s.stage === 'shadow' ? '' : ` · ${s.trafficPct} %`,
        ),
      ),
      h('p', { class: 'stage-meaning small' }, trafficSentence(s)),
      pauseBlock(s),
      gateBlock(s, gate),
      numbersBlock(s),
      h(
        'footer',
        { class: 'card-foot' },
        actionButtons(s, key),
        opts.link
          ? h(
              'a',
              { href: segmentHref(s.workflow, s.segment), class: 'details-link', 'aria-label': `Details of ${s.segment}`, 'data-focus': `details:${key}` },
              'Details →',
            )
          : null,
      ),
    );
  }

  function trafficSentence(s) {
    const since = `at this stage for ${duration(Date.now() - new Date(s.stageStartedAt).getTime())}`;
    if (s.stage === 'shadow') return `${STAGE_MEANING.shadow} ${capitalise(since)}.`;
    const rest = 100 - s.trafficPct;
    const split =
      rest > 0 ? `${s.trafficPct} % of the segment's items are ${s.stage}, ${rest} % stay at the stage below.` : `All of the segment's items are ${s.stage}.`;
    return `${split} ${STAGE_MEANING[s.stage]} ${capitalise(since)}.`;
  }

  const capitalise = (t) => t.charAt(0).toUpperCase() + t.slice(1);

  function pauseBlock(s) {
    if (!s.paused) return null;
    const kind = { hold: 'Held by a person', guard: 'Locked by the regression guard', operator: 'Locked after an operator’s change' }[s.pauseKind] || 'Paused';
    return h(
      'div',
      { class: `notice ${s.pauseKind === 'guard' ? 'bad' : 'wait'}`, 'data-testid': 'pause-state' },
      h('strong', {}, `${kind}. `),
      `No promotion until someone resumes it. `,
      s.pauseReason ? h('span', {}, `Why: ${s.pauseReason}`) : null,
      h('span', { class: 'muted small' }, ` (${s.pausedBy || 'unknown'}, ${when(s.pausedAt)})`),
    );
  }

  function gateBlock(s, gate) {
    if (!gate) return h('div', { class: 'gate' }, h('p', { class: 'muted', 'data-testid': 'gate-verdict' }, 'The gate has not been evaluated yet.'));
    const v = VERDICT[gate.verdict] || { label: gate.verdict, tone: 'wait' };
    const counts = gate.counts || {};
    return h(
      'div',
      { class: 'gate' },
      h(
        'div',
        { class: 'gate-head' },
        h('span', { class: `pill ${v.tone}`, 'data-testid': 'gate-verdict', 'data-verdict': gate.verdict }, v.label),
        gate.target ? h('span', { class: 'small' }, `for the next step: ${split(gate.target)}`) : h('span', { class: 'small' }, 'Nothing further to promote.'),
      ),
      gate.summary ? h('p', { class: 'gate-summary' }, gate.summary) : null,
      isNum(gate.moreSamplesNeeded)
        ? h(
            'p',
            { class: 'more-samples', 'data-testid': 'more-samples' },
            `About ${int(gate.moreSamplesNeeded)} more comparisons should settle it, if the agreement rate holds.`,
          )
        : null,
      // A pause is already explained above the gate; other holds (flag off, kill switch) are said here.
      gate.holdReason && !s.paused ? h('p', { class: 'notice wait small', 'data-testid': 'hold-reason' }, `Held: ${gate.holdReason}`) : null,
      s.pendingStep
        ? h('p', { class: 'notice info small', 'data-testid': 'pending-step' }, `Waiting for a program manager to approve ${split(s.pendingStep)}.`)
        : null,
      s.approvedStep ? h('p', { class: 'notice good small' }, `Approved: ${split(s.approvedStep)}; the controller takes it when the gate still holds.`) : null,
      Array.isArray(gate.criteria) && gate.criteria.length ? criteriaTable(gate.criteria) : null,
      h(
        'p',
        { class: 'muted small' },
        `Judged on this step's blind evidence: ${int(counts.n)} blind labels${counts.arm ? ` of the ${counts.arm} arm` : ''}`,
        isNum(counts.reviews) && counts.reviews > 0 ? `, ${int(counts.reviews)} anchored reviews (override rate only)` : '',
        isNum(counts.aiCalls) ? `, ${int(counts.aiCalls)} model calls` : '',
        ` · evaluated ${ago(s.lastEvaluatedAt)}`,
      ),
    );
  }

  function criteriaTable(criteria) {
    return h(
      'table',
      { class: 'criteria' },
      h('caption', { class: 'visually-hidden' }, 'Gate criteria'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Criterion'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Measured'),
          h('th', { scope: 'col' }, 'Required'),
          h('th', { scope: 'col' }, 'Margin'),
        ),
      ),
      h(
        'tbody',
        {},
        criteria.map((c) => {
          const f = describeCriterion(c);
          // Approval and the sample/dwell minimums are "not yet", never "no" (the gate treats them so too).
          const notYet = c.name === 'approval' || c.name === 'minimum-sample' || c.name === 'minimum-dwell';
          const status =
            c.holds === true
              ? ['good', '✓ Holds']
              : c.holds === false && !notYet
                ? ['bad', '✗ Fails']
                : ['wait', c.name === 'approval' ? '… Waiting' : '… Not yet'];
          return [
            h(
              'tr',
              { 'data-testid': 'gate-criterion', 'data-criterion': c.name, 'data-holds': String(c.holds), class: `holds-${status[0]}` },
              h('th', { scope: 'row' }, CRITERION_LABEL[c.name] || c.name),
              h('td', {}, h('span', { class: `status ${status[0]}` }, status[1])),
              h('td', {}, f.actual),
              h('td', {}, f.required),
              h('td', { class: `margin ${f.marginTone || ''}` }, f.margin),
            ),
            c.detail ? h('tr', { class: 'criterion-detail' }, h('td', { colspan: 5 }, c.detail)) : null,
          ];
        }),
      ),
    );
  }

  /** A criterion in words a program manager reads at a glance. */
  function describeCriterion(c) {
    const interval = c.interval ? ` (interval ${range(c.interval.lower, c.interval.upper)})` : '';
    const m = c.margin;
    switch (c.name) {
      case 'minimum-sample':
        return {
          actual: `${int(c.actual)} comparisons`,
          required: `at least ${int(c.required)}`,
          margin: isNum(m) ? (m >= 0 ? `${int(m)} to spare` : `${int(-m)} more needed`) : '—',
          marginTone: isNum(m) && m < 0 ? 'wait' : 'good',
        };
      case 'minimum-dwell':
        return {
          actual: duration(c.actual),
          required: `at least ${duration(c.required)}`,
          margin: isNum(m) ? (m >= 0 ? 'met' : `${duration(-m)} to go`) : '—',
          marginTone: isNum(m) && m < 0 ? 'wait' : 'good',
        };
      case 'agreement': {
        let margin = '—';
        if (isNum(m)) {
          if (c.holds === true) margin = `lower bound ${pts(m)} above target`;
          else if (c.holds === false) margin = `even the upper bound is ${pts(m)} below`;
          else margin = m >= 0 ? `lower bound ${pts(m)} above target` : `lower bound ${pts(m)} short`;
        }
        return {
          actual: `${pct(c.actual)}${c.actual === null ? '' : interval}`,
          required: `lower bound ≥ ${pct(c.required)}`,
          margin,
          marginTone: c.holds === true ? 'good' : c.holds === false ? 'bad' : 'wait',
        };
      }
      case 'override-rate':
      case 'error-rate': {
        let margin = '—';
        if (isNum(m)) {
          if (c.holds === true) margin = `upper bound ${pts(m)} under ceiling`;
          else if (c.holds === false) margin = `even the lower bound is ${pts(m)} over`;
          else margin = `upper bound ${pts(m)} over ceiling`;
        }
        return {
          actual: `${pct(c.actual)}${c.actual === null ? '' : interval}`,
          required: `upper bound ≤ ${pct(c.required)}`,
          margin,
          marginTone: c.holds === true ? 'good' : c.holds === false ? 'bad' : 'wait',
        };
      }
      case 'budget':
        return { actual: c.actual ? 'within budget' : 'exhausted', required: 'within budget', margin: '', marginTone: '' };
      case 'approval':
        return { actual: c.actual ? 'approved' : 'not yet', required: 'a program manager’s yes', margin: '', marginTone: '' };
      case 'threshold':
        return { actual: isNum(c.actual) ? c.actual.toFixed(2) : 'none', required: 'a certified or fixed threshold', margin: '', marginTone: '' };
      default:
        return { actual: String(c.actual ?? '—'), required: String(c.required ?? '—'), margin: isNum(m) ? String(m) : '—' };
    }
  }

  function numbersBlock(s) {
    const rows = [];
    const source = { computed: 'computed, certified', fixed: 'fixed by a program manager', none: 'none in force' }[s.thresholdSource] || s.thresholdSource;
    const details = s.thresholdDetails || {};
    // A certified threshold moves at most every few minutes, so the latest recommendation may differ from the one in force.
    const moving = s.thresholdSource === 'computed' && isNum(details.threshold) && isNum(s.threshold) && Math.abs(details.threshold - s.threshold) > 1e-9;
    rows.push([
      'Confidence threshold',
      isNum(s.threshold) ? `${s.threshold.toFixed(2)} in force (${source})` : `none in force${details.status ? ` — ${details.status.replace(/-/g, ' ')}` : ''}`,
      [moving ? `Latest recommendation ${details.threshold.toFixed(2)}; a certified threshold moves at most every 5 minutes. ` : '', details.reason || ''].join(
        '',
      ) || null,
    ]);
    if (s.baseline) {
      const from = s.baseline.source === 'target' ? 'the stage target (too few blind labels to measure it)' : `${int(s.baseline.n)} blind labels`;
      rows.push(['Baseline', `${pct(s.baseline.rate)} agreement (lower bound ${pct(s.baseline.lower)}) from ${from}`, null]);
    }
    if (s.guard) {
      const w = s.guard.window || {};
      rows.push([
        'Regression guard',
        `CUSUM ${fixed(s.guard.statistic, 2)} of ${fixed(s.guard.threshold, 2)} to revert · watching for a drop from ${pct(s.guard.baseline)} to ${pct(s.guard.alternative)}`,
        `Current window: ${int(w.n)} comparisons, ${int(w.agree)} agreed.`,
      ]);
    } else {
      rows.push(['Regression guard', s.stage === 'shadow' ? 'not armed in shadow (nothing leaves Understudy)' : 'not armed yet', null]);
    }
    for (const c of s.classGuards || []) {
      const stream = (name, g) => `${name} CUSUM ${fixed(g.statistic, 2)} of ${fixed(g.threshold, 2)} (from ${pct(g.baseline)} to ${pct(g.alternative)})`;
      rows.push([`Critical class ${c.name}`, `${stream('recall', c.recall)} · ${stream('precision', c.precision)}`, null]);
    }
    const m = s.monitor;
    if (m) {
      const state =
        m.status === 'collecting'
          ? `collecting its reference (${int(m.referenceN)} decisions so far)`
          : `evidence of a shift ${isNum(m.statistic) ? fixed(m.statistic, 1) : '0'} of ${fixed(m.threshold, 1)} nats to alarm, over ${int(m.n)} decisions against ${int(m.referenceN)}`;
      const leading = (m.leading || [])
        .slice(0, 3)
        .map((d) => `${d.name}: ${isNum(d.recentShare) ? pct(d.recentShare) : '—'} recently, ${pct(d.referenceShare)} in the reference`)
        .join('; ');
      rows.push([
        'Drift monitor (no labels)',
        `${state}${m.raised ? ` · ALARMED: blind share raised to ${pct(s.blindShare)}` : ''}`,
        [leading, m.raised ? `${int(m.labelsSinceRaise)} blind labels since the alarm, ${int(m.agreeSinceRaise)} agreed.` : ''].filter(Boolean).join(' ') ||
          null,
      ]);
    }
    for (const g of (s.gate && s.gate.guardrails) || []) rows.push([`Guardrail ${g.name}`, g.detail, null]);
    return h(
      'dl',
      { class: 'numbers small', 'data-testid': 'segment-numbers' },
      rows.map(([k, v, note]) => [h('dt', {}, k), h('dd', {}, v, note ? h('span', { class: 'muted block' }, note) : null)]),
    );
  }

  const fixed = (v, d) => (isNum(v) ? v.toFixed(d) : '—');

  function actionButtons(s, key) {
    const buttons = [];
    const add = (action, label, opts = {}) => {
      if (!can(action)) return;
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: opts.tone || 'secondary',
            'data-testid': `action-${action}`,
            'data-focus': `${action}:${key}`,
            disabled: !!opts.disabledWhy,
            title: opts.disabledWhy || opts.title || null,
            onclick: () => openSegmentDialog(action, s),
          },
          label,
        ),
      );
    };
    add('promote', 'Promote', { tone: 'primary', title: 'One step up now, when the gate holds or awaits approval' });
    if (s.pendingStep) add('approve', `Approve ${split(s.pendingStep)}`, { tone: 'primary' });
    if (s.paused) add('resume', 'Resume');
    else add('hold', 'Hold');
    add('rollback', 'Roll back', { tone: 'danger', disabledWhy: s.stage === 'shadow' ? 'Already in shadow: nothing to roll back' : null });
    if (!buttons.length) return null;
    return h('div', { class: 'actions', role: 'group', 'aria-label': `Actions on ${s.segment}` }, buttons);
  }

  // ----- segment page -----

  async function renderSegmentPage(workflow, segment, first) {
    const base = `/api/workflows/${encodeURIComponent(workflow)}/segments/${encodeURIComponent(segment)}`;
    const reports = mayRead(REPORT_ROLES);
    const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const [s, trend, calib, audit] = await Promise.all([
      call(base),
      reports ? call(`/api/reports/agreement?${q({ workflow, segment, groupBy: 'day', from: monthAgo })}`) : null,
      reports ? call(`/api/reports/calibration?${q({ workflow, segment, from: monthAgo })}`) : null,
      mayRead(AUDIT_ROLES) ? call(`/api/audit?${q({ workflow, segment, limit: 50 })}`) : null,
    ]);
    const key = `${workflow}|${segment}`;
    const main = $('main');
    if (first || state.detailKey !== key || !$('segment-detail')) {
      destroyCharts();
      state.detailKey = key;
      fill(
        main,
        h(
          'div',
          { class: 'page-head' },
          h('p', { class: 'crumbs small' }, h('a', { href: '#/' }, 'Board'), ' / ', h('code', {}, workflow), ' / '),
          h('h1', {}, `Segment ${segment}`),
        ),
        h(
          'div',
          { id: 'segment-detail', 'data-testid': 'segment-detail', class: 'detail' },
          h('div', { id: 'detail-card', class: 'detail-card' }),
          h('section', { class: 'panel', 'aria-labelledby': 'lh-title' }, h('h2', { id: 'lh-title' }, 'Last hour'), h('div', { id: 'last-hour' })),
          h(
            'section',
            { class: 'panel chart-panel', 'aria-labelledby': 'trend-title' },
            h('h2', { id: 'trend-title' }, 'Agreement by day'),
            h('p', { class: 'muted small' }, 'AI agreement with people per day, with its 95 % Wilson interval (shaded) and the gate’s target.'),
            reports
              ? h(
                  'div',
                  { class: 'chart-box' },
                  h('canvas', { id: 'trend-canvas', 'data-testid': 'trend-chart', role: 'img', 'aria-label': 'Agreement by day with its interval' }),
                )
              : h('p', { class: 'muted' }, 'Reports are for analysts and program managers.'),
            h('div', { id: 'trend-note' }),
          ),
          h(
            'section',
            { class: 'panel chart-panel', 'aria-labelledby': 'calib-title' },
            h('h2', { id: 'calib-title' }, 'Calibration'),
            h(
              'p',
              { class: 'muted small' },
              'Does “confidence 0.9” mean agreeing 90 % of the time? Observed agreement per confidence bin (interval shaded) against the diagonal of perfect calibration.',
            ),
            reports
              ? h(
                  'div',
                  { class: 'chart-box' },
                  h('canvas', {
                    id: 'calib-canvas',
                    'data-testid': 'calibration-chart',
                    role: 'img',
                    'aria-label': 'Calibration: agreement per confidence bin',
                  }),
                )
              : h('p', { class: 'muted' }, 'Reports are for analysts and program managers.'),
            h('div', { id: 'recommendation' }),
          ),
          h(
            'section',
            { class: 'panel wide', 'aria-labelledby': 'audit-title' },
            h('h2', { id: 'audit-title' }, 'Audit timeline'),
            h('p', { class: 'muted small' }, 'The latest 50 events of this segment, newest first.'),
            h('ol', { id: 'audit-list', class: 'timeline' }),
          ),
        ),
      );
    }
    const focus = rememberFocus();
    fill($('detail-card'), segmentCard(s));
    fill($('last-hour'), lastHour(s));
    if (trend) drawTrend(trend, s);
    if (calib) drawCalibration(calib, s);
    fill($('audit-list'), ...(audit ? auditItems(audit.events) : [h('li', { class: 'muted' }, 'The audit log is not open to your role.')]));
    restoreFocus(focus);
  }

  function lastHour(s) {
    const m = s.lastHour || {};
    const routed =
      m.routed && Object.keys(m.routed).length
        ? Object.entries(m.routed)
            .map(([k, v]) => `${ROUTED_LABEL[k] || k}: ${int(v)}`)
            .join(' · ')
        : 'nothing yet';
    const tiles = [
      ['Comparisons', int(m.n), `${int(m.agree)} agreed`],
      [
        'Agreement',
        pct(m.agreement && m.agreement.rate),
        m.agreement && m.agreement.rate !== null ? `95 % interval ${range(m.agreement.lower, m.agreement.upper)}` : 'no comparisons',
      ],
      [
        'Override rate',
        m.overrideRate ? pct(m.overrideRate.rate) : '—',
        m.overrideRate ? `${int(m.overrideRate.overridden)} of ${int(m.overrideRate.reviews)} reviews` : 'no reviews (none in shadow)',
      ],
      ['Model calls', int(m.aiCalls), `${int(m.aiFailures)} failed · ${int(m.aiSkipped)} skipped`],
      ['Cost', usd(m.costUsd, 4), isNum(m.aiCalls) && m.aiCalls > 0 ? `${usd(m.costUsd / m.aiCalls, 6)} per item` : ''],
      ['Where items went', '', routed],
      ['Open re-review items', int(s.openRereviewItems), 'auto decisions from a regressed window'],
    ];
    return h(
      'dl',
      { class: 'tiles', 'data-testid': 'last-hour' },
      tiles.map(([label, value, note]) =>
        h(
          'div',
          { class: 'tile' },
          h('dt', {}, label),
          h('dd', {}, value ? h('span', { class: 'tile-value' }, value) : null, note ? h('span', { class: 'muted small block' }, note) : null),
        ),
      ),
    );
  }

  function gateTarget(s) {
    const c = s.gate && Array.isArray(s.gate.criteria) ? s.gate.criteria.find((x) => x.name === 'agreement') : null;
    return c && isNum(c.required) ? c.required : null;
  }

  const ROUTED_LABEL = {
    none: 'people only',
    suggest: 'suggested',
    auto: 'decided by the AI',
    review: 'sent for review',
    audit: 'blind audit',
    'double-label': 'second opinion',
  };

  const COLORS = {
    line: '#1d4ed8',
    band: 'rgba(29, 78, 216, 0.16)',
    bandEdge: 'rgba(29, 78, 216, 0.45)',
    target: '#b45309',
    diagonal: '#6b7280',
    threshold: '#047857',
  };

  /**
   * Straight reference lines (a gate target, a threshold) across the whole plot area, whatever the
   * number of points: options.plugins.referenceLines = { lines: [{ axis: 'x' | 'y', value, color, label }] }.
   */
  const referenceLines = {
    id: 'referenceLines',
    afterDatasetsDraw(chart, _args, options) {
      const lines = options && Array.isArray(options.lines) ? options.lines : [];
      const { ctx, chartArea: a, scales } = chart;
      for (const l of lines) {
        const scale = scales[l.axis];
        if (!scale || !isNum(l.value)) continue;
        const p = scale.getPixelForValue(l.value);
        ctx.save();
        ctx.strokeStyle = l.color;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        if (l.axis === 'y') {
          ctx.moveTo(a.left, p);
          ctx.lineTo(a.right, p);
        } else {
          ctx.moveTo(p, a.top);
          ctx.lineTo(p, a.bottom);
        }
        ctx.stroke();
        // The label sits on a light plate so lines and points behind it do not blur it.
        ctx.font = '12px system-ui, sans-serif';
        ctx.textAlign = 'right';
        ctx.textBaseline = 'bottom';
        const x = l.axis === 'y' ? a.right - 4 : p - 6;
        const y = l.axis === 'y' ? p - 4 : a.bottom - 6;
        const w = ctx.measureText(l.label).width;
        ctx.fillStyle = 'rgba(255, 255, 255, 0.9)';
        ctx.fillRect(x - w - 3, y - 15, w + 6, 16);
        ctx.fillStyle = l.color;
        ctx.fillText(l.label, x, y);
        ctx.restore();
      }
    },
  };

  function percentAxis(min) {
    return { min, max: 1, ticks: { callback: (v) => `${Math.round(v * 100)} %` }, title: { display: true, text: 'agreement' } };
  }

  function upsertChart(name, canvasId, config) {
    const existing = state.charts[name];
    if (existing && existing.canvas === $(canvasId)) {
      existing.data = config.data;
      existing.options = config.options;
      existing.update('none');
      return existing;
    }
    if (existing) existing.destroy();
    if (!window.Chart) return null;
    const chart = new window.Chart($(canvasId), { ...config, plugins: [referenceLines] });
    state.charts[name] = chart;
    return chart;
  }

  function destroyCharts() {
    for (const c of Object.values(state.charts)) c.destroy();
    state.charts = {};
  }

  function drawTrend(report, s) {
    const rows = report.rows.filter((r) => r.n > 0).sort((a, b) => (a.key < b.key ? -1 : 1));
    const labels = rows.map((r) => r.key);
    const target = gateTarget(s);
    const lowest = Math.min(...rows.map((r) => r.agreement.lower), target ?? 1);
    const min = rows.length ? Math.max(0, Math.floor((lowest - 0.05) * 10) / 10) : 0;
    upsertChart('trend', 'trend-canvas', {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: 'lower bound',
            data: rows.map((r) => r.agreement.lower),
            borderColor: COLORS.bandEdge,
            borderWidth: 1,
            pointStyle: 'dash',
            pointRadius: 8,
            pointBorderWidth: 2,
            fill: false,
          },
          {
            label: '95 % interval',
            data: rows.map((r) => r.agreement.upper),
            borderColor: COLORS.bandEdge,
            backgroundColor: COLORS.band,
            borderWidth: 1,
            pointStyle: 'dash',
            pointRadius: 8,
            pointBorderWidth: 2,
            fill: '-1',
          },
          {
            label: 'agreement',
            data: rows.map((r) => r.agreement.rate),
            borderColor: COLORS.line,
            backgroundColor: COLORS.line,
            borderWidth: 2,
            pointRadius: 4,
            tension: 0,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: { y: percentAxis(min), x: { offset: true, title: { display: true, text: 'day (UTC)' } } },
        plugins: {
          referenceLines: {
            lines:
              target === null
                ? []
                : [{ axis: 'y', value: target, color: COLORS.target, label: `gate target ${pct(target, 0)} (the lower bound must reach it)` }],
          },
          legend: { labels: { filter: (item) => item.text !== 'lower bound', usePointStyle: false, boxHeight: 8 } },
          tooltip: {
            callbacks: {
              label: (ctx) => `${ctx.dataset.label}: ${pct(ctx.parsed.y)}`,
              afterBody: (items) => (items[0] ? `${int(rows[items[0].dataIndex].n)} comparisons` : ''),
            },
          },
        },
      },
    });
    const note = $('trend-note');
    if (!rows.length) fill(note, h('p', { class: 'muted small' }, 'No comparisons in the last 30 days yet.'));
    else if (rows.length === 1)
      fill(
        note,
        h(
          'p',
          { class: 'muted small' },
          `One day of data so far: ${int(rows[0].n)} comparisons, ${pct(rows[0].agreement.rate)} (interval ${range(rows[0].agreement.lower, rows[0].agreement.upper)}). The band fills in as days accumulate.`,
        ),
      );
    else fill(note);
  }

  function drawCalibration(report, s) {
    const bins = report.calibration.bins.filter((b) => b.n > 0 && b.rate !== null);
    const rec = report.recommendation;
    const threshold = isNum(s.threshold) ? s.threshold : rec && isNum(rec.threshold) ? rec.threshold : null;
    const thresholdLabel = isNum(s.threshold) ? `threshold in force ${s.threshold.toFixed(2)}` : `recommended threshold ${fixed(threshold, 2)}`;
    const xy = (f) => bins.map((b) => ({ x: b.meanConfidence, y: f(b) }));
    const maxN = Math.max(1, ...bins.map((b) => b.n));
    const lowest = Math.min(...bins.map((b) => b.lower), ...bins.map((b) => b.meanConfidence), 1);
    const min = bins.length ? Math.max(0, Math.floor((lowest - 0.05) * 10) / 10) : 0;
    upsertChart('calibration', 'calib-canvas', {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'perfect calibration',
            data: [
              { x: min, y: min },
              { x: 1, y: 1 },
            ],
            borderColor: COLORS.diagonal,
            borderDash: [4, 4],
            borderWidth: 1,
            pointRadius: 0,
          },
          { label: 'lower bound', data: xy((b) => b.lower), borderColor: COLORS.bandEdge, borderWidth: 1, pointRadius: 0, fill: false },
          {
            label: '95 % interval',
            data: xy((b) => b.upper),
            borderColor: COLORS.bandEdge,
            backgroundColor: COLORS.band,
            borderWidth: 1,
            pointRadius: 0,
            fill: '-1',
          },
          // Bigger points for fuller bins: a bin of 5 items says little.
          {
            label: 'observed agreement',
            data: xy((b) => b.rate),
            borderColor: COLORS.line,
            backgroundColor: COLORS.line,
            borderWidth: 2,
            pointRadius: bins.map((b) => 2.5 + 5 * Math.sqrt(b.n / maxN)),
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: true,
        scales: {
          x: { type: 'linear', min, max: 1, title: { display: true, text: 'stated confidence' }, ticks: { callback: (v) => Number(v).toFixed(2) } },
          y: percentAxis(min),
        },
        plugins: {
          referenceLines: { lines: threshold === null ? [] : [{ axis: 'x', value: threshold, color: COLORS.threshold, label: thresholdLabel }] },
          legend: { labels: { filter: (item) => item.text !== 'lower bound', boxHeight: 8 } },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                if (ctx.dataset.label !== 'observed agreement') return `${ctx.dataset.label}: ${pct(ctx.parsed.y)}`;
                const b = bins[ctx.dataIndex];
                return `confidence ${b.from.toFixed(2)}–${b.to.toFixed(2)}: ${int(b.agree)}/${int(b.n)} agreed = ${pct(b.rate)} (interval ${range(b.lower, b.upper)})`;
              },
            },
          },
        },
      },
    });
    fill($('recommendation'), recommendationBlock(report, s));
  }

  function recommendationBlock(report, s) {
    const r = report.recommendation;
    const c = report.calibration;
    if (!r) return h('p', { class: 'muted' }, 'No recommendation.');
    const tone = r.status === 'certified' ? 'good' : r.status === 'not-certified' ? 'bad' : 'wait';
    const label =
      { certified: 'Threshold certified', 'no-labels': 'No labels yet', 'too-few-labels': 'Too few labels', 'not-certified': 'Not certified' }[r.status] ||
      r.status;
    const rows = [
      ['Recommended threshold', isNum(r.threshold) ? r.threshold.toFixed(2) : 'none'],
      ['Coverage (would go auto)', pct(r.coverage)],
      ['Accuracy above it', isNum(r.accuracyAbove) ? `${pct(r.accuracyAbove)} (lower bound ${pct(r.accuracyLower)})` : '—'],
      ['Guarantee', `accuracy ≥ ${pct(r.target, 0)} with probability ≥ ${pct(1 - r.delta, 0)}`],
      ['In force for this segment', isNum(s.threshold) ? `${s.threshold.toFixed(2)} (${s.thresholdSource})` : 'none'],
      ['Calibration error (ECE)', isNum(c.expectedCalibrationError) ? pct(c.expectedCalibrationError) : '—'],
    ];
    return h(
      'div',
      { class: 'recommendation', 'data-testid': 'recommendation', 'data-status': r.status },
      h('p', {}, h('span', { class: `pill ${tone}` }, label), ' ', r.reason),
      h(
        'dl',
        { class: 'numbers small' },
        rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
      h('p', { class: 'muted small' }, `${int(c.n)} labelled comparisons in the last 30 days, champion v${report.version}.`),
    );
  }

  const ACTION_LABEL = {
    'stage.promoted': 'Promoted',
    'stage.rolled-back': 'Rolled back',
    'stage.reverted': 'Reverted by the regression guard',
    'guard.breached': 'Regression guard breached (policy: pause or alert)',
    'guard.armed': 'Guard armed',
    'monitor.alarm': 'Drift monitor alarmed: blind share raised',
    'monitor.all-clear': 'Drift monitor all-clear: blind share back to base',
    'segment.approved': 'Approved',
    'segment.awaiting-approval': 'Awaiting approval',
    'segment.discovered': 'Segment discovered',
    'segment.held': 'Held',
    'segment.resumed': 'Resumed',
    'flag.written': 'Flag written',
    'flag.operator-change': 'Changed in Unleash by an operator',
    'threshold.changed': 'Threshold changed',
    'kill-switch.changed': 'Kill switch changed',
    'rereview.resolved': 'Re-review item resolved',
  };

  function auditItems(events) {
    if (!events.length) return [h('li', { class: 'muted' }, 'No events yet.')];
    return events.map((e) =>
      h(
        'li',
        { class: `event kind-${e.actorKind}`, 'data-testid': 'audit-event', 'data-action': e.action },
        h('div', { class: 'event-head' }, h('strong', {}, ACTION_LABEL[e.action] || e.action), h('span', { class: 'muted small' }, ` ${e.action}`)),
        h(
          'div',
          { class: 'small' },
          h('time', { datetime: e.at }, when(e.at)),
          ' · ',
          h('span', { class: `actor ${e.actorKind}` }, e.actor),
          h('span', { class: 'muted' }, ` (${e.actorKind})`),
        ),
        e.reason ? h('p', { class: 'event-reason' }, e.reason) : null,
        e.details && Object.keys(e.details).length
          ? h(
              'details',
              { open: state.openEvents.has(e.id), ontoggle: (ev) => (ev.target.open ? state.openEvents.add(e.id) : state.openEvents.delete(e.id)) },
              h('summary', { class: 'small' }, 'The numbers it was made from'),
              h('pre', {}, JSON.stringify(e.details, null, 2)),
            )
          : null,
      ),
    );
  }

  // ----- reports -----

  async function renderReports(first) {
    if (!mayRead(REPORT_ROLES)) {
      fill(
        $('main'),
        h('div', { class: 'page-head' }, h('h1', {}, 'Reports')),
        h('p', { class: 'notice wait' }, `Agreement reports are for analysts and program managers; your role is ${ROLE_LABEL[state.me.role]}.`),
      );
      return;
    }
    if (!state.workflows.length) await loadBoard();
    const f = state.report;
    if (!f.workflow || !state.workflows.some((w) => w.workflow === f.workflow)) {
      const busy = state.workflows.find((w) => (state.segments[w.workflow] || []).length > 0) || state.workflows[0];
      f.workflow = busy ? busy.workflow : null;
    }
    if (first || !$('report-form')) buildReportsPage();
    if (!f.workflow) {
      fill($('report-body'), h('p', { class: 'muted' }, 'No workflows.'));
      return;
    }
    const report = await call(`/api/reports/agreement?${reportQuery()}`);
    renderReportTable(report);
  }

  function reportQuery(extra = {}) {
    const f = state.report;
    const from = new Date(Date.now() - Number(f.days) * 86_400_000).toISOString();
    return q({ workflow: f.workflow, groupBy: f.groupBy, segment: f.segment || undefined, from, ...extra });
  }

  function buildReportsPage() {
    const f = state.report;
    const segments = (state.segments[f.workflow] || []).map((s) => s.segment);
    const select = (id, label, options, value, onchange) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: id }, label),
        h(
          'select',
          { id, onchange },
          options.map(([v, t]) => h('option', { value: v, selected: v === value }, t)),
        ),
      );
    const changed = (field) => (e) => {
      state.report[field] = e.target.value;
      if (field === 'workflow') state.report.segment = '';
      if (field === 'workflow') buildReportsPage();
      void refresh();
    };
    fill(
      $('main'),
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Agreement reports'),
        h(
          'p',
          { class: 'muted' },
          'How often the AI agrees with people, with honest intervals, per segment, day, version, model or prompt version. Computed from per-minute rollups of the champion (or of every version when grouping by version, model or prompt).',
        ),
      ),
      h(
        'form',
        { id: 'report-form', class: 'report-form', onsubmit: (e) => e.preventDefault() },
        select(
          'report-workflow',
          'Workflow',
          state.workflows.map((w) => [w.workflow, w.title ? `${w.title} (${w.workflow})` : w.workflow]),
          f.workflow,
          changed('workflow'),
        ),
        select('report-group', 'Group by', GROUP_BY, f.groupBy, changed('groupBy')),
        select('report-segment', 'Segment', [['', 'All segments'], ...segments.map((s) => [s, s])], f.segment, changed('segment')),
        select('report-period', 'Period', PERIODS, f.days, changed('days')),
        h(
          'div',
          { class: 'field' },
          h('span', { class: 'label-spacer', 'aria-hidden': 'true' }, ' '),
          h('button', { type: 'button', class: 'secondary', 'data-testid': 'download-csv', onclick: downloadCsv }, 'Download CSV'),
        ),
      ),
      h('div', { id: 'report-body' }),
    );
  }

  function renderReportTable(report) {
    const label = (GROUP_BY.find(([k]) => k === report.groupBy) || [null, 'Group'])[1];
    const rows = report.rows;
    const body = $('report-body');
    if (!rows.length) {
      fill(body, h('p', { class: 'muted', 'data-testid': 'report-empty' }, 'No comparisons in this period.'));
      return;
    }
    const baseline = (r) => {
      const b = r.humanBaseline;
      if (!b || b.humans.rate === null) return h('span', { class: 'muted' }, 'no pairs');
      const verdict = { below: 'AI below people', above: 'AI above people', indistinguishable: 'within human noise' }[b.verdict] || '';
      return [pct(b.humans.rate), h('span', { class: 'muted block' }, `${int(b.humans.n)} pairs · ${verdict}`)];
    };
    fill(
      body,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'report', 'data-testid': 'report-table' },
          h(
            'caption',
            {},
            `${report.workflow} by ${label.toLowerCase()}, ${when(report.from)} to ${when(report.to)}${report.version ? ` · version ${report.version}` : ''}${report.segment ? ` · segment ${report.segment}` : ''}`,
          ),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [
                label,
                'Comparisons',
                'Agreement (95 % Wilson interval)',
                'Cohen’s κ',
                'Override rate',
                'Blind audit',
                'Human baseline',
                'Model errors',
                'Cost per item',
                'Latency p50 / p95',
              ].map((t, i) => h('th', { scope: 'col', class: i > 0 ? 'num' : null }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((r) =>
              h(
                'tr',
                { 'data-testid': 'report-row', 'data-key': r.key },
                h('th', { scope: 'row' }, r.key),
                h('td', { class: 'num' }, int(r.n)),
                h(
                  'td',
                  { class: 'num' },
                  h('span', { class: 'strong' }, pct(r.agreement.rate)),
                  r.agreement.rate === null ? null : h('span', { class: 'muted block' }, range(r.agreement.lower, r.agreement.upper)),
                ),
                h(
                  'td',
                  { class: 'num' },
                  r.kappa && isNum(r.kappa.kappa)
                    ? [r.kappa.kappa.toFixed(3), h('span', { class: 'muted block' }, `${fixed(r.kappa.lower, 2)}–${fixed(r.kappa.upper, 2)}`)]
                    : '—',
                ),
                h(
                  'td',
                  { class: 'num' },
                  r.overrideRate
                    ? [pct(r.overrideRate.rate), h('span', { class: 'muted block' }, `${int(r.overrideRate.overridden)} of ${int(r.overrideRate.reviews)}`)]
                    : h('span', { class: 'muted' }, 'no reviews'),
                ),
                h(
                  'td',
                  { class: 'num' },
                  r.audit ? [pct(r.audit.rate), h('span', { class: 'muted block' }, `${int(r.audit.n)} audits`)] : h('span', { class: 'muted' }, 'none'),
                ),
                h('td', { class: 'num' }, baseline(r)),
                h(
                  'td',
                  { class: 'num' },
                  r.ai.errorRate === null
                    ? '—'
                    : [pct(r.ai.errorRate), h('span', { class: 'muted block' }, `${int(r.ai.invalid + r.ai.failed)} of ${int(r.ai.calls)}`)],
                ),
                h('td', { class: 'num' }, usd(r.cost.perItemUsd, 6)),
                h('td', { class: 'num' }, `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p95)}`),
              ),
            ),
          ),
        ),
      ),
      fieldsTable(rows),
    );
  }

  function fieldsTable(rows) {
    const fields = [...new Set(rows.flatMap((r) => r.fields.map((f) => f.field)))];
    if (!fields.length) return null;
    return h(
      'details',
      { class: 'fields', open: state.report.fieldsOpen, ontoggle: (e) => (state.report.fieldsOpen = e.target.open) },
      h('summary', {}, 'Agreement field by field'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'report' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Group'),
              fields.map((f) => h('th', { scope: 'col' }, f)),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((r) =>
              h(
                'tr',
                {},
                h('th', { scope: 'row' }, r.key),
                fields.map((name) => {
                  const f = r.fields.find((x) => x.field === name);
                  return h('td', { class: 'num' }, f && f.rate !== null ? `${pct(f.rate)} (${range(f.lower, f.upper)})` : '—');
                }),
              ),
            ),
          ),
        ),
      ),
    );
  }

  /** The CSV needs the bearer token too, so it is fetched and handed to the browser as a file. */
  async function downloadCsv() {
    try {
      const res = await call(`/api/reports/agreement?${reportQuery({ format: 'csv' })}`, { raw: true, accept: 'text/csv' });
      const blob = await res.blob();
      const f = state.report;
      const name = `agreement-${f.workflow}-${f.groupBy}${f.segment ? `-${f.segment.replace(/[^A-Za-z0-9._-]+/g, '_')}` : ''}.csv`;
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      showError(e, 'Download failed');
    }
  }

  // ---------- actions and their dialog ----------

  let pending = null;

  function openDialog({ title, text, confirm, tone, extra, run }) {
    pending = run;
    $('dialog-title').textContent = title;
    $('dialog-text').textContent = text;
    fill($('dialog-extra'), extra || '');
    $('reason-input').value = '';
    $('dialog-message').textContent = '';
    const button = $('confirm-action');
    button.textContent = confirm;
    button.className = tone || 'primary';
    button.disabled = false;
    state.dialogOpen = true;
    $('action-dialog').showModal();
    $('reason-input').focus();
  }

  function closeDialog() {
    state.dialogOpen = false;
    pending = null;
    if ($('action-dialog').open) $('action-dialog').close();
  }

  function openSegmentDialog(action, s) {
    const base = `/api/workflows/${encodeURIComponent(s.workflow)}/segments/${encodeURIComponent(s.segment)}`;
    const current = split(s);
    const next = s.gate && s.gate.target ? split(s.gate.target) : 'the next step';
    const below = s.stage === 'confidence-routed' ? 'supervised 100 %' : 'shadow';
    const specs = {
      promote: {
        title: `Promote ${s.segment}`,
        text: `One step up now: ${current} → ${next}. The service allows it only when the gate holds or awaits approval; otherwise it says why not.`,
        confirm: 'Promote',
      },
      approve: {
        title: `Approve ${s.segment}`,
        text: `Approve the step the controller is waiting on: ${split(s.pendingStep)}. The controller takes it at its next cycle if the gate still holds.`,
        confirm: 'Approve',
      },
      hold: {
        title: `Hold ${s.segment}`,
        text: `Keep ${s.segment} at ${current}: no promotion until someone resumes it. Its traffic keeps flowing as it does now.`,
        confirm: 'Hold',
      },
      resume: {
        title: `Resume ${s.segment}`,
        text: `Lift the ${s.pauseKind || ''} lock on ${s.segment}${s.pauseReason ? ` (${s.pauseReason})` : ''}. Promotion continues when the gate holds.`,
        confirm: 'Resume',
      },
      rollback: {
        title: `Roll back ${s.segment}`,
        text: `Back one stage now: ${current} → ${below}, then held there until someone resumes it. Unleash is updated at once.`,
        confirm: 'Roll back',
        tone: 'danger',
      },
    };
    const spec = specs[action];
    let toShadow = null;
    let extra = null;
    if (action === 'rollback' && s.stage === 'confidence-routed') {
      toShadow = h('input', { type: 'checkbox', id: 'to-shadow' });
      extra = h('div', { class: 'check' }, toShadow, h('label', { for: 'to-shadow' }, 'Straight back to shadow instead'));
    }
    openDialog({
      ...spec,
      extra,
      run: (reason) =>
        call(`${base}/${action}`, { method: 'POST', body: action === 'rollback' ? { reason, toShadow: !!(toShadow && toShadow.checked) } : { reason } }),
    });
  }

  function openKillSwitchDialog(enable) {
    openDialog({
      title: enable ? 'Pull the kill switch' : 'Release the kill switch',
      text: enable
        ? 'Nothing will leave Understudy for any workflow until it is released: people handle every item. The AI may keep running in shadow. Ops can also do this in Unleash.'
        : 'Routing resumes for every workflow, each segment at its own stage.',
      confirm: enable ? 'Pull kill switch' : 'Release kill switch',
      tone: enable ? 'danger' : 'primary',
      run: (reason) => call('/api/kill-switch', { method: 'PUT', body: { enabled: enable, reason } }),
    });
  }

  async function submitDialog(e) {
    e.preventDefault();
    const reason = $('reason-input').value.trim();
    if (reason.length < 3) {
      $('dialog-message').textContent = 'Please give a reason of at least 3 characters: it is recorded in the audit log.';
      $('reason-input').focus();
      return;
    }
    if (!pending) return;
    const run = pending;
    const title = $('dialog-title').textContent;
    const button = $('confirm-action');
    button.disabled = true;
    button.textContent = 'Working…';
    try {
      await run(reason);
      closeDialog();
      clearError();
    } catch (err) {
      closeDialog();
      showError(err, `${title} was refused`);
    }
    await refresh();
  }

  // ---------- focus across refreshes ----------

  function rememberFocus() {
    const el = document.activeElement;
    return el && el.dataset ? el.dataset.focus || null : null;
  }

  function restoreFocus(key) {
    if (!key) return;
    const el = document.querySelector(`[data-focus="${CSS.escape(key)}"]`);
    if (el) el.focus();
  }

  // ---------- wiring ----------

  function init() {
    takeHandedOverToken();
    $('sign-in-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const token = $('token-input').value.trim();
      if (!token) {
        $('sign-in-message').textContent = 'Please paste your API token.';
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      $('sign-in-message').textContent = '';
      await start();
    });
    $('sign-out').addEventListener('click', () => signOut('You are signed out.'));
    $('error-dismiss').addEventListener('click', clearError);
    $('action-form').addEventListener('submit', submitDialog);
    $('cancel-action').addEventListener('click', closeDialog);
    $('action-dialog').addEventListener('close', () => {
      state.dialogOpen = false;
      pending = null;
    });
    window.addEventListener('hashchange', () => void route());
    setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, REFRESH_MS);
    void start();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
