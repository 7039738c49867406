// LAAI's dashboard: plain DOM and SVG, no framework and nothing fetched from elsewhere, so the jar
// serves all of it. Data comes from /v1/dashboard (and /v1/completions, the HTTP ingest), with the
// API key the user signs in with; training events arrive as server-sent events read with fetch,
// because EventSource cannot send an Authorization header.
'use strict';

const KEY = 'laai.api-key';
const SVG = 'http://www.w3.org/2000/svg';
const VIEWS = ['tasks', 'training', 'delta', 'playground', 'teach', 'health'];

const state = {
  key: sessionStorage.getItem(KEY),
  model: null,
  tasks: [],
  details: new Map(),
  view: null,
  task: null,
  teach: null,
  teachFrom: 0,
  live: null,
  healthTimer: null,
  refreshTimer: null,
};

class Unauthorized extends Error {}

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function headers(extra = {}) {
  return state.key ? Object.assign({ Authorization: 'Bearer ' + state.key }, extra) : extra;
}

function problem(body, status) {
  if (body && typeof body === 'object') {
    if (body.detail) return body.detail;
    if (body.error && body.error.message) return body.error.message;
  }
  return 'the server answered ' + status;
}

async function api(path, options = {}) {
  const res = await fetch(path, Object.assign({}, options, { headers: headers(options.headers) }));
  if (res.status === 401) {
    showLogin('The API key was refused; sign in again.');
    throw new Unauthorized();
  }
  const type = res.headers.get('content-type') || '';
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw Object.assign(new Error(problem(body, res.status)), { status: res.status });
  return body;
}

// Reads a text/event-stream response, calling onEvent(name, data) per event, until it ends.
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'event') name = v; else if (field === 'data') data.push(v);
      }
      if (data.length) onEvent(name, data.join('\n'));
    }
  }
}

function fmt(x, digits = 2) {
  if (x === null || x === undefined || x === '' || Number.isNaN(Number(x))) return '—';
  return Number(x).toFixed(digits);
}

function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}

function setLive(text) {
  $('live').textContent = text;
}

// ---- sign-in ----

function showLogin(message) {
  state.key = null;
  sessionStorage.removeItem(KEY);
  stopLive();
  for (const v of VIEWS) $('view-' + v).hidden = true;
  document.querySelector('nav').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login-key').focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = $('login-key').value.trim();
  if (!key) return;
  const res = await fetch('/v1/dashboard/health', { headers: { Authorization: 'Bearer ' + key } });
  if (res.status === 401) {
    $('login-error').textContent = 'That API key is not valid.';
    return;
  }
  state.key = key;
  sessionStorage.setItem(KEY, key);
  $('login').hidden = true;
  $('login-key').value = '';
  document.querySelector('nav').hidden = false;
  start();
}

// ---- data ----

async function loadTasks() {
  const body = await api('/v1/dashboard/tasks');
  state.tasks = body.tasks;
  return state.tasks;
}

async function loadDetail(task) {
  const detail = await api('/v1/dashboard/tasks/' + encodeURIComponent(task));
  state.details.set(task, detail);
  return detail;
}

const loading = new Set();

function ensureDetail(task) {
  if (!task || loading.has(task)) return;
  loading.add(task);
  loadDetail(task).then(render, (e) => {
    if (e.status === 404) $('notice').textContent = 'No task ' + task + ' yet.'; else report(e);
  }).finally(() => loading.delete(task));
}

function onTrainingEvent(event) {
  const detail = state.details.get(event.task);
  if (detail) {
    const copy = Object.assign({}, event);
    delete copy.layer_norms;
    delete copy.head_norms;
    detail.events.push(copy);
    detail.status = ['queued', 'started', 'progress'].includes(event.event) ? 'training' : event.event;
  }
  // An outcome changes the version and the norms: fetch the task again; progress renders as it comes.
  const reload = ['published', 'deleted'].includes(event.event) || !detail;
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => refresh(reload ? event.task : null), reload ? 0 : 150);
  if (event.event === 'published') awaitVersion(event.task, event.version, 20);
}

// The event and the artifact travel on different topics, so the edge may announce a version a
// moment before its registry holds it: ask again until it does (or give up after a few seconds).
function awaitVersion(task, version, tries) {
  const summary = state.tasks.find((t) => t.task === task);
  const detail = state.details.get(task);
  const behind = (x) => !x || !x.current || x.current.version < version;
  if (tries <= 0 || (!behind(summary) && (!detail || !behind(detail)))) return;
  setTimeout(() => refresh(task).then(() => awaitVersion(task, version, tries - 1)), 300);
}

async function refresh(task) {
  try {
    if (task && (state.details.has(task) || task === state.task || task === state.teach)) {
      // A task just taught is unknown until its first event arrives: not an error.
      await loadDetail(task).catch((e) => { if (e.status !== 404) throw e; });
    }
    await loadTasks();
    $('notice').textContent = '';
    render();
  } catch (e) {
    report(e);
  }
}

function report(e) {
  if (e instanceof Unauthorized) return;
  $('notice').textContent = e.message;
}

// Follows the training events, reconnecting after a drop; a refused key ends it (sign in again).
function startLive() {
  stopLive();
  const controller = new AbortController();
  state.live = controller;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const res = await fetch('/v1/dashboard/events', { headers: headers(), signal: controller.signal });
        if (res.status === 401) {
          showLogin('The API key was refused; sign in again.');
          return;
        }
        if (!res.ok) throw new Error(problem(await res.json().catch(() => null), res.status));
        setLive('● live');
        await refresh(state.task);
        await readEvents(res, (name, data) => {
          if (name === 'training') onTrainingEvent(JSON.parse(data));
        });
      } catch (e) {
        if (controller.signal.aborted) return;
        setLive('reconnecting… (' + e.message + ')');
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
}

function stopLive() {
  if (state.live) state.live.abort();
  state.live = null;
}

// ---- routing ----

function route() {
  const [view, ...rest] = (location.hash.slice(1) || 'tasks').split('/');
  state.view = VIEWS.includes(view) ? view : 'tasks';
  if (rest.length) state.task = decodeURIComponent(rest.join('/'));
  for (const v of VIEWS) $('view-' + v).hidden = v !== state.view;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === state.view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  clearInterval(state.healthTimer);
  if (state.view === 'health') {
    renderHealth();
    state.healthTimer = setInterval(renderHealth, 2000);
  }
  render();
}

function render() {
  if (state.view === 'tasks') renderTasks();
  if (state.view === 'training') renderTraining();
  if (state.view === 'delta') renderDelta();
  if (state.view === 'playground') renderPlaygroundTasks();
  if (state.view === 'teach') renderTeachPanel();
}

// ---- tasks ----

function renderTasks() {
  const body = $('tasks-table').tBodies[0];
  body.replaceChildren();
  $('tasks-empty').hidden = state.tasks.length > 0;
  $('tasks-table').hidden = state.tasks.length === 0;
  for (const t of state.tasks) {
    const c = t.current;
    const md = c ? c.metadata || {} : {};
    const latest = t.latest || {};
    const training = t.status === 'training'
      ? (latest.event === 'progress' ? 'v' + latest.version + ' step ' + latest.step + ', loss ' + fmt(latest.loss, 3)
        : latest.event + (latest.version ? ' v' + latest.version : ''))
      : '';
    const history = el('ul', { class: 'history' });
    for (const o of t.outcomes) {
      const what = 'v' + (o.version ?? '?') + ' ' + o.event + (o.reason ? ': ' + o.reason : '') + ' · ' + time(o.at);
      history.append(el('li', { text: what }));
    }
    const link = el('a', { href: '#training/' + encodeURIComponent(t.task), text: t.task });
    const layers = c ? c.layers.length + (state.model ? ' of ' + state.model.layers : '') : '—';
    // data-label names each cell where a narrow screen stacks a row's cells.
    body.append(el('tr', { 'data-task': t.task },
      el('th', { scope: 'row' }, link),
      el('td', { 'data-label': 'Status' }, el('span', { class: 'badge ' + t.status, text: t.status })),
      el('td', { class: 'version', 'data-label': 'Version', text: c ? String(c.version) : '—' }),
      el('td', { 'data-label': 'Site', text: c ? c.site + ' · ' + c.positions : '—' }),
      el('td', { 'data-label': 'Layers kept', text: layers }),
      el('td', { 'data-label': 'Held-out accuracy (base)', text: c ? fmt(md.val_accuracy) + ' (' + fmt(md.base_val_accuracy) + ')' : '—' }),
      el('td', { class: 'training', 'data-label': 'Training', text: training }),
      el('td', { 'data-label': 'History' }, history)));
  }
}

// ---- training ----

function taskOptions(select, selected) {
  const names = state.tasks.map((t) => t.task);
  if (selected && !names.includes(selected)) names.push(selected);
  const current = [...select.options].map((o) => o.value).join('\n');
  if (current !== names.join('\n')) {
    select.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
  }
  if (selected) select.value = selected;
  else if (names.length) state.task = select.value = names[0];
}

function versionsOf(detail) {
  const vs = new Set();
  for (const e of detail.events) if (e.version !== undefined && e.event !== 'deleted') vs.add(e.version);
  return [...vs].sort((a, b) => b - a);
}

function renderTraining() {
  taskOptions($('training-task'), state.task);
  const detail = state.details.get(state.task);
  const select = $('training-version');
  if (!detail) {
    ensureDetail(state.task);
    select.replaceChildren();
    $('training-panel').replaceChildren(el('p', { text: state.task ? 'Loading…' : 'No task yet.' }));
    return;
  }
  const versions = versionsOf(detail);
  if (select.dataset.task !== state.task) select.dataset.pinned = 'no';
  const chosen = select.dataset.pinned === 'yes' && select.value ? Number(select.value) : versions[0];
  select.replaceChildren(...versions.map((v) => el('option', { value: String(v), text: 'v' + v })));
  select.dataset.task = state.task;
  if (chosen !== undefined) select.value = String(chosen);
  trainingPanel($('training-panel'), detail, chosen);
}

// One training (a candidate version): its outcome, the loss curve of its progress events, timings.
function trainingPanel(container, detail, version) {
  const events = detail.events.filter((e) => e.version === version);
  if (version === undefined || events.length === 0) {
    container.replaceChildren(el('p', { text: 'No training of ' + detail.task + ' seen yet: waiting for the trainer.' }));
    return;
  }
  const outcome = events.filter((e) => ['published', 'rejected', 'failed'].includes(e.event)).pop();
  const started = events.find((e) => e.event === 'started');
  const progress = events.filter((e) => e.event === 'progress');
  const facts = el('dl', { class: 'facts' });
  const fact = (k, v) => facts.append(el('dt', { text: k }), el('dd', { text: v }));
  const status = outcome ? outcome.event : 'training';
  fact('version', 'v' + version);
  fact('status', status + (outcome && outcome.reason ? ': ' + outcome.reason : ''));
  if (started) fact('demonstrations', String(started.demonstrations));
  if (progress.length) fact('latest step', progress[progress.length - 1].step + ' (loss ' + fmt(progress[progress.length - 1].loss, 4) + ')');
  if (outcome && outcome.millis !== undefined) fact('training', (outcome.millis / 1000).toFixed(2) + ' s, ' + outcome.steps + ' steps');
  if (outcome && outcome.latency_ms !== undefined) fact('batch to version', (outcome.latency_ms / 1000).toFixed(2) + ' s');
  if (outcome && outcome.val_accuracy !== undefined) fact('held-out accuracy (base)', fmt(outcome.val_accuracy) + ' (' + fmt(outcome.base_val_accuracy) + ')');
  const points = progress.map((e) => [e.step, e.loss, e.objective]);
  if (outcome && outcome.steps !== undefined && Number.isFinite(outcome.train_loss)
      && (!points.length || outcome.steps > points[points.length - 1][0])) {
    points.push([outcome.steps, outcome.train_loss, undefined]);
  }
  const badge = el('span', { class: 'badge ' + status, 'data-status': status, text: status });
  container.replaceChildren(el('h3', {}, detail.task + ' v' + version + ' ', badge), facts, lossCurve(points));
}

function lossCurve(points) {
  const fig = el('figure', { class: 'loss' });
  fig.append(el('figcaption', { text: 'Loss by step: cross-entropy on the demonstrations (solid) and the objective with its penalties (dashed)' }));
  if (points.length === 0) {
    fig.append(el('p', { class: 'muted', text: 'waiting for the first progress event' }));
    return fig;
  }
  const W = 640, H = 240, L = 64, R = 12, T = 10, B = 30;
  const xs = points.map((p) => p[0]);
  const ys = points.flatMap((p) => [p[1], p[2]]).filter(Number.isFinite);
  const x0 = Math.min(0, ...xs), x1 = Math.max(1, ...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  y0 = Math.max(0, y0 - 0.05 * (y1 - y0));
  const X = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'loss curve', class: 'loss-curve' });
  s.append(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999' }));
  s.append(svg('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#999' }));
  for (let i = 0; i <= 4; i++) {
    const y = y0 + (y1 - y0) * i / 4;
    s.append(svg('text', { x: L - 6, y: Y(y) + 4, 'text-anchor': 'end' }, String(Number(y.toPrecision(3)))));
    s.append(svg('line', { x1: L, y1: Y(y), x2: W - R, y2: Y(y), stroke: '#eee' }));
    const x = x0 + (x1 - x0) * i / 4;
    s.append(svg('text', { x: X(x), y: H - B + 16, 'text-anchor': 'middle' }, String(Math.round(x))));
  }
  s.append(svg('text', { x: W - R, y: H - 2, 'text-anchor': 'end' }, 'step'));
  const objective = points.filter((p) => Number.isFinite(p[2]));
  s.append(svg('polyline', { points: objective.map((p) => X(p[0]) + ',' + Y(p[2])).join(' '), fill: 'none',
    stroke: '#8a94a3', 'stroke-width': 1.5, 'stroke-dasharray': '5 4', class: 'objective' }));
  s.append(svg('polyline', { points: points.map((p) => X(p[0]) + ',' + Y(p[1])).join(' '), fill: 'none',
    stroke: '#2357c6', 'stroke-width': 2 }));
  for (const p of points) {
    const dot = svg('circle', { cx: X(p[0]), cy: Y(p[1]), r: 3, fill: '#2357c6', class: 'point' });
    dot.append(svg('title', {}, 'step ' + p[0] + ': ' + p[1].toFixed(4)));
    s.append(dot);
  }
  fig.append(s);
  return fig;
}

// ---- where Δ acts ----

function renderDelta() {
  taskOptions($('delta-task'), state.task);
  const detail = state.details.get(state.task);
  const cur = $('delta-current'), prev = $('delta-previous');
  if (!detail) {
    ensureDetail(state.task);
    $('delta-note').textContent = state.task ? 'Loading…' : 'No task yet.';
    cur.replaceChildren(); prev.replaceChildren();
    return;
  }
  const now = detail.norms, before = detail.previousNorms;
  if (!now) {
    $('delta-note').textContent = detail.task + ' has no published version yet.';
    cur.replaceChildren(); prev.replaceChildren();
    return;
  }
  const max = Math.max(1e-12, ...normValues(now), ...(before ? normValues(before) : []));
  $('delta-note').textContent = now.site === 'attn_heads'
    ? '‖Δ‖ of each attention head at each layer (a blank row is a layer group lasso pruned); one colour scale for both versions, up to ' + max.toFixed(3) + '.'
    : '‖Δ‖ of each layer\'s residual-stream vector; one scale for both versions, up to ' + max.toFixed(3) + '.';
  drawNorms(cur, now, max, 'Current: v' + now.version);
  if (before) drawNorms(prev, before, max, 'Previous: v' + before.version);
  else prev.replaceChildren(el('figcaption', { text: 'Previous version' }), el('p', { class: 'muted', text: 'none seen' }));
}

function normValues(n) {
  const heads = Object.values(n.headNorms || {}).flat();
  return heads.length ? heads : Object.values(n.layerNorms || {});
}

function drawNorms(fig, norms, max, title) {
  const layers = state.model ? state.model.layers : Math.max(0, ...Object.keys(norms.layerNorms).map(Number)) + 1;
  fig.replaceChildren(el('figcaption', { text: title }));
  const headRows = norms.headNorms || {};
  const heads = Object.values(headRows).reduce((m, h) => Math.max(m, h.length), 0);
  if (heads > 0) {
    const cell = Math.max(8, Math.min(28, Math.floor(560 / heads))), L = 52, T = 18;
    const W = L + heads * cell + 4, H = T + layers * cell + 4;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'heatmap', 'data-version': norms.version,
      'aria-label': 'norm of delta per layer and head, ' + title });
    for (let h = 0; h < heads; h += Math.ceil(heads / 12)) {
      s.append(svg('text', { x: L + h * cell + cell / 2, y: 12, 'text-anchor': 'middle' }, 'h' + h));
    }
    for (let l = 0; l < layers; l++) {
      s.append(svg('text', { x: L - 6, y: T + l * cell + cell / 2 + 4, 'text-anchor': 'end' }, 'layer ' + l));
      const row = headRows[l] || [];
      for (let h = 0; h < heads; h++) {
        const v = row[h] || 0;
        const r = svg('rect', { x: L + h * cell, y: T + l * cell, width: cell - 1, height: cell - 1, fill: shade(v / max),
          class: 'cell', 'data-norm': v });
        r.append(svg('title', {}, 'layer ' + l + ', head ' + h + ': ' + v.toFixed(4)));
        s.append(r);
      }
    }
    fig.append(s);
  } else {
    const bar = 22, L = 52, W = 600, H = layers * bar + 8;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'bars', 'data-version': norms.version,
      'aria-label': 'norm of delta per layer, ' + title });
    for (let l = 0; l < layers; l++) {
      const v = norms.layerNorms[l] || 0;
      s.append(svg('text', { x: L - 6, y: l * bar + 15, 'text-anchor': 'end' }, 'layer ' + l));
      const r = svg('rect', { x: L, y: l * bar + 3, width: Math.max(0, (W - L - 60) * v / max), height: bar - 6,
        fill: '#2357c6', class: 'cell', 'data-norm': v });
      r.append(svg('title', {}, 'layer ' + l + ': ' + v.toFixed(4)));
      s.append(r, svg('text', { x: L + (W - L - 60) * v / max + 4, y: l * bar + 15 }, v.toFixed(3)));
    }
    fig.append(s);
  }
  fig.append(el('p', { class: 'legend', text: 'lighter: smaller ‖Δ‖ · darker: up to ' + max.toFixed(3) }));
}

function shade(t) {
  const k = Math.max(0, Math.min(1, t));
  const mix = (a, b) => Math.round(a + (b - a) * k);
  return `rgb(${mix(246, 20)},${mix(247, 60)},${mix(249, 160)})`;
}

// ---- playground ----

function renderPlaygroundTasks() {
  const names = state.tasks.filter((t) => t.current).map((t) => t.task);
  for (const select of document.querySelectorAll('#pg-members select')) {
    const keep = select.value;
    const now = [...select.options].map((o) => o.value).join('\n');
    if (now !== names.join('\n')) {
      select.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
      if (names.includes(keep)) select.value = keep;
    }
  }
  if (!document.querySelector('#pg-members .member')) addMember();
}

function addMember() {
  const n = document.querySelectorAll('#pg-members .member').length;
  const id = 'pg-task-' + n;
  const select = el('select', { id, class: 'pg-task' });
  for (const t of state.tasks.filter((x) => x.current)) select.append(el('option', { value: t.task, text: t.task }));
  const weight = el('input', { type: 'number', step: '0.05', value: '1', min: '-16', max: '16', class: 'pg-weight',
    id: id + '-weight', 'aria-label': 'weight' });
  const remove = el('button', { type: 'button', text: 'Remove', 'aria-label': 'remove this task' });
  const row = el('div', { class: 'member' }, el('label', { for: id, text: 'Task' }), select,
    el('label', { for: id + '-weight', text: 'weight' }), weight, remove);
  remove.addEventListener('click', () => row.remove());
  $('pg-members').append(row);
}

async function stream(body, out, onChunk) {
  const res = await fetch('/v1/completions', { method: 'POST', body: JSON.stringify(body),
    headers: headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }) });
  if (res.status === 401) { showLogin('The API key was refused; sign in again.'); throw new Unauthorized(); }
  if (!res.ok) throw new Error(problem(await res.json().catch(() => null), res.status));
  await readEvents(res, (name, data) => {
    if (data === '[DONE]') return;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(chunk.error.message);
    onChunk(chunk);
    if (chunk.choices && chunk.choices[0]) out.textContent += chunk.choices[0].text;
  });
}

async function generate(event) {
  event.preventDefault();
  $('pg-error').textContent = '';
  const prompt = $('pg-prompt').value;
  const scale = Number($('pg-scale').value);
  const members = [...document.querySelectorAll('#pg-members .member')]
    .map((m) => ({ task: m.querySelector('select').value, scale: Number(m.querySelector('input').value) * scale }))
    .filter((m) => m.task);
  if (members.length === 0) {
    $('pg-error').textContent = 'Choose a task to steer with (one must have a published version).';
    return;
  }
  const common = { model: 'base', prompt, max_tokens: Number($('pg-tokens').value), temperature: 0, stream: true };
  $('pg-base').textContent = '';
  $('pg-steered').textContent = '';
  $('pg-versions').textContent = '';
  $('pg-conditions').textContent = '';
  $('pg-run').disabled = true;
  $('pg-base').dataset.done = $('pg-steered').dataset.done = 'no';
  try {
    await Promise.all([
      stream(common, $('pg-base'), () => {}).finally(() => { $('pg-base').dataset.done = 'yes'; }),
      stream(Object.assign({}, common, { laai: { interventions: members } }), $('pg-steered'), (chunk) => {
        if (chunk.interventions) {
          $('pg-versions').textContent = '(' + chunk.interventions.map((i) => i.task + ' v' + i.version + ' ×' + fmt(i.scale)).join(' + ') + ')';
        }
        const unmet = chunk.choices && chunk.choices[0] && chunk.choices[0].conditions_unmet;
        if (unmet && unmet.length) {
          $('pg-conditions').textContent = 'Left out, their condition does not hold for this prompt: ' + unmet.join(', ') + '.';
        }
      }).finally(() => { $('pg-steered').dataset.done = 'yes'; }),
    ]);
  } catch (e) {
    if (!(e instanceof Unauthorized)) $('pg-error').textContent = e.message;
  } finally {
    $('pg-run').disabled = false;
  }
}

// ---- teach ----

function parseRows(text, space) {
  const rows = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    if (line.trim().startsWith('{')) {
      try {
        rows.push(JSON.parse(line));
      } catch (e) {
        throw new Error('line ' + (i + 1) + ' is not JSON: ' + e.message);
      }
      return;
    }
    const at = line.indexOf('=>');
    if (at < 0) throw new Error('line ' + (i + 1) + ' has no "=>" between prompt and completion');
    const prompt = line.slice(0, at).trim(), completion = line.slice(at + 2).trim();
    if (!prompt || !completion) throw new Error('line ' + (i + 1) + ' needs text on both sides of "=>"');
    rows.push({ prompt, completion: (space ? ' ' : '') + completion });
  });
  if (rows.length === 0) throw new Error('give at least one demonstration');
  return rows;
}

async function teach(event) {
  event.preventDefault();
  $('teach-error').textContent = '';
  $('teach-result').textContent = '';
  const task = $('teach-task').value.trim();
  let demonstrations;
  try {
    demonstrations = parseRows($('teach-rows').value, $('teach-space').checked);
  } catch (e) {
    $('teach-error').textContent = e.message;
    return;
  }
  $('teach-send').disabled = true;
  try {
    const before = state.tasks.find((t) => t.task === task);
    const r = await api('/v1/tasks/' + encodeURIComponent(task) + '/demonstrations', { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ demonstrations, mode: $('teach-mode').value }) });
    $('teach-result').textContent = 'Accepted: ' + demonstrations.length + ' demonstrations on ' + r.topic
      + ' (partition ' + r.partition + ', offset ' + r.offset + '). The trainer picks them up next.';
    state.teach = task;
    state.teachFrom = before && before.current ? before.current.version : 0;
    // Its detail loads with its first training event (asking before would be a 404 for a new task).
    state.details.delete(task);
    renderTeachPanel();
  } catch (e) {
    if (!(e instanceof Unauthorized)) $('teach-error').textContent = e.message;
  } finally {
    $('teach-send').disabled = false;
  }
}

function renderTeachPanel() {
  const panel = $('teach-panel');
  if (!state.teach) { panel.replaceChildren(); return; }
  const detail = state.details.get(state.teach);
  if (!detail) {
    panel.replaceChildren(el('p', { text: 'Waiting for ' + state.teach + '’s first training event…' }));
    return;
  }
  const versions = versionsOf(detail).filter((v) => v > state.teachFrom);
  trainingPanel(panel, detail, versions[0]);
  const summary = state.tasks.find((t) => t.task === state.teach);
  if (summary && summary.current && summary.current.version > state.teachFrom) {
    panel.append(el('p', { class: 'new-version' }, 'Version ' + summary.current.version + ' is live. ',
      el('a', { href: '#playground', text: 'Try it in the playground' }), ' · ',
      el('a', { href: '#delta/' + encodeURIComponent(state.teach), text: 'see where Δ acts' })));
  }
}

// ---- health ----

async function renderHealth() {
  let h;
  try {
    h = await api('/v1/dashboard/health');
  } catch (e) {
    report(e);
    return;
  }
  const card = (title, rows, extra) => {
    const dl = el('dl');
    for (const [k, v] of rows) dl.append(el('dt', { text: k }), el('dd', { text: v === null || v === undefined ? '—' : String(v) }));
    return el('article', {}, el('h3', { text: title }), dl, extra || null);
  };
  const m = h.model || {};
  const checks = el('ul', { class: 'history' });
  let kafka = '—';
  for (const c of h.checks || []) {
    const item = el('li', {}, el('span', { class: c.status === 'UP' ? 'up' : 'down', text: c.status }), ' ' + c.name);
    checks.append(item);
    if (c.name === 'laai-kafka') kafka = c.status + (c.data ? ' · ' + Object.entries(c.data).map(([k, v]) => k + ' ' + v).join(', ') : '');
  }
  const r = h.registry || {}, e = h.edge;
  $('health-cards').replaceChildren(
    card('Model', [['id', m.id], ['family', m.family], ['layers × heads', m.layers + ' × ' + m.heads], ['hidden size', m.hidden_size],
      ['vocabulary', m.vocab_size], ['context', m.max_model_len], ['engine', m.engine], ['fingerprint', (m.fingerprint || '').slice(0, 16)]]),
    card('Readiness', [['role', h.role], ['ready', h.ready ? 'yes' : 'no'], ['Kafka', kafka]], checks),
    card('Registry', [['tasks served', r.tasks], ['caught up', r.caught_up ? 'yes' : 'no'], ['lag (records)', r.lag],
      ['artifacts refused', r.rejected], ['training events read', r.training_events_caught_up ? 'caught up' : 'catching up'],
      ['dashboard streams', r.event_streams]]),
    e ? card('Edge load', [['running', e.running], ['waiting', e.waiting], ['tokens/s (10 s)', fmt(e.tokens_per_second, 1)],
      ['tokens generated', e.generated_tokens], ['prompt tokens', e.prompt_tokens]])
      : card('Edge load', [['edge', 'not run by this role']]));
}

// ---- start ----

async function start() {
  try {
    const h = await api('/v1/dashboard/health');
    state.model = h.model && h.model.loaded ? h.model : null;
    await loadTasks();
  } catch (e) {
    report(e);
    if (e instanceof Unauthorized) return;
  }
  route();
  startLive();
}

document.addEventListener('DOMContentLoaded', async () => {
  window.addEventListener('hashchange', route);
  $('login-form').addEventListener('submit', (e) => signIn(e).catch(report));
  $('training-task').addEventListener('change', (e) => { location.hash = '#training/' + encodeURIComponent(e.target.value); });
  $('training-version').addEventListener('change', (e) => { e.target.dataset.pinned = 'yes'; render(); });
  $('delta-task').addEventListener('change', (e) => { location.hash = '#delta/' + encodeURIComponent(e.target.value); });
  $('pg-scale').addEventListener('input', (e) => { $('pg-scale-value').textContent = Number(e.target.value).toFixed(1); });
  $('pg-add').addEventListener('click', addMember);
  $('playground-form').addEventListener('submit', generate);
  $('teach-form').addEventListener('submit', teach);
  let config = { api_key_required: false };
  try {
    config = await (await fetch('/dashboard/config')).json();
  } catch (e) {
    setLive('error: ' + e.message);
  }
  if (config.api_key_required && !state.key) {
    showLogin('');
    return;
  }
  start();
});
