// Eddy's browser UI: hash-routed views over the HTTP API of the server that
// serves this page. No framework and no network beyond that server.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const main = () => document.getElementById('main');
const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const t0 = performance.now();
window.eddyScriptStart = t0;

// el builds an element: el('a', {href: '#'}, 'text', child, …).
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function setStatus(msg) { document.getElementById('status').textContent = msg; }

// ---- API access -------------------------------------------------------------

function token() { return localStorage.getItem('eddyToken') || ''; }

function headers(extra = {}) {
  const h = Object.assign({}, extra);
  if (token()) h.Authorization = 'Bearer ' + token();
  return h;
}

// ApiError carries a problem+json document (RFC 9457).
class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem || {};
  }
}

async function api(path, opts = {}) {
  const res = await fetch(path, Object.assign({}, opts, { headers: headers(opts.headers) }));
  if (!res.ok) {
    let p = null;
    try { p = await res.json(); } catch (_) { /* not JSON */ }
    if (res.status === 401) setStatus('The API needs a bearer token: enter it at the top right.');
    throw new ApiError(res.status, p);
  }
  if (res.status === 204) return null;
  const ct = res.headers.get('Content-Type') || '';
  return ct.includes('json') ? res.json() : res;
}

// stream reads server-sent events from path, calling onEvent(name, data) for
// each, until signal aborts or the stream ends. fetch rather than
// EventSource, so that a bearer token can be sent.
async function stream(path, onEvent, signal) {
  const res = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let name = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

// authURL turns an API URL into one an <img> or <a> can use: the URL itself
// when the API is open, else a blob: URL of the answer fetched with the token.
async function authURL(url) {
  if (!token()) return url;
  const res = await fetch(url, { headers: headers() });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return URL.createObjectURL(await res.blob());
}

async function download(url, filename) {
  const href = await authURL(url);
  const a = el('a', { href, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
}

// ---- shared state -----------------------------------------------------------

let kinds = null; // from GET /v1/kinds
async function loadKinds() {
  if (!kinds) kinds = (await api('/v1/kinds')).kinds;
  return kinds;
}

function recentUploads() {
  try { return JSON.parse(localStorage.getItem('eddyUploads') || '[]'); } catch (_) { return []; }
}
function rememberUpload(u) {
  const list = recentUploads().filter((x) => x.id !== u.id);
  list.unshift({ id: u.id, filename: u.filename || '', format: u.format, datasets: u.datasets, created_at: u.created_at });
  localStorage.setItem('eddyUploads', JSON.stringify(list.slice(0, 50)));
}

// view teardown: each view registers what to stop when the route changes.
let teardown = [];
function onLeave(fn) { teardown.push(fn); }

// ---- router -----------------------------------------------------------------

async function route() {
  teardown.forEach((fn) => fn());
  teardown = [];
  const parts = (location.hash.replace(/^#\/?/, '').split('?')[0] || 'jobs').split('/').map(decodeURIComponent);
  document.querySelectorAll('nav a[data-nav]').forEach((a) => {
    if (a.dataset.nav === parts[0]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  const m = main();
  m.replaceChildren();
  try {
    switch (parts[0]) {
      case 'new': await (parts[1] ? viewForm(m, parts[1]) : viewCatalogue(m)); break;
      case 'job': await viewJob(m, parts[1]); break;
      case 'uploads': viewUploads(m); break;
      case 'compare': await viewCompare(m); break;
      default: await viewJobs(m);
    }
  } catch (e) {
    m.append(el('p', { class: 'errorbox', role: 'alert' }, e.message));
  }
}

// ---- job list ---------------------------------------------------------------

// shortId is the part of a job id shown in lists: the last 8 hex digits,
// which are random, where the first ones are a timestamp shared by jobs
// submitted together.
function shortId(id) { return id.slice(-8); }

function stateBadge(s) { return el('span', { class: 'state state-' + s }, s); }

function progressCell(j) {
  if (j.state !== 'running' || !j.progress) return el('span', { class: 'muted' }, j.state === 'succeeded' ? 'done' : '');
  const pct = Math.round(100 * (j.progress.fraction || 0));
  return el('span', {}, el('progress', { max: 100, value: pct, 'aria-label': 'progress of ' + j.id }), ' ', pct + '% ',
    el('span', { class: 'muted' }, j.progress.message || ''));
}

function shortTime(s) { return s ? new Date(s).toLocaleString() : ''; }

async function viewJobs(m) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  // The kinds (a large document: every kind's schema) only fill the filter:
  // they load beside the jobs, not before them, so that the list paints
  // first.
  const kindSel = el('select', { id: 'f-kind' }, el('option', { value: '' }, 'all kinds'),
    q.get('kind') && el('option', { value: q.get('kind') }, q.get('kind')));
  loadKinds().then((ks) => {
    const chosen = kindSel.value;
    kindSel.replaceChildren(el('option', { value: '' }, 'all kinds'), ks.map((k) => el('option', { value: k.name }, k.name)));
    kindSel.value = chosen;
  }).catch((e) => setStatus('job kinds: ' + e.message));
  const stateSel = el('select', { id: 'f-state' }, el('option', { value: '' }, 'all states'), STATES.map((s) => el('option', { value: s }, s)));
  kindSel.value = q.get('kind') || '';
  stateSel.value = q.get('state') || '';
  const tbody = el('tbody');
  const table = el('table', { 'aria-label': 'jobs' },
    el('thead', {}, el('tr', {}, ['Select', 'Job', 'Kind', 'State', 'Progress', 'Created', 'Actions'].map((h) => el('th', { scope: 'col' }, h)))), tbody);
  // Jobs picked for comparison, kept across renders of the live list.
  const picked = new Set();
  const compareBtn = el('button', { type: 'button', id: 'compare-selected', disabled: true,
    onclick: () => { location.hash = '#/compare?jobs=' + [...picked].join(','); } }, 'Compare selected');
  const pickNote = el('span', { class: 'muted', id: 'compare-note', role: 'status' }, 'Select two or more jobs of one kind to compare them.');
  const updatePicked = () => {
    const chosen = [...picked].map((id) => jobs.get(id)).filter(Boolean);
    const oneKind = new Set(chosen.map((j) => j.kind)).size === 1;
    compareBtn.disabled = !(chosen.length >= 2 && chosen.length <= 8 && oneKind);
    pickNote.textContent = chosen.length < 2 ? 'Select two or more jobs of one kind to compare them.'
      : !oneKind ? 'The selected jobs are of different kinds.' : chosen.length > 8 ? 'Compare at most 8 jobs.' : chosen.length + ' jobs selected.';
  };
  m.append(el('h2', {}, 'Jobs'),
    el('div', { class: 'filters' },
      el('div', {}, el('label', { for: 'f-kind' }, 'Kind'), kindSel),
      el('div', {}, el('label', { for: 'f-state' }, 'State'), stateSel),
      el('a', { href: '#/new' }, 'Submit a new job'),
      el('div', {}, compareBtn, ' ', pickNote)),
    table, el('p', { class: 'muted', id: 'live' }, 'connecting…'));

  const jobs = new Map();
  const matches = (j) => (!kindSel.value || j.kind === kindSel.value) && (!stateSel.value || j.state === stateSel.value);
  const render = () => {
    const list = [...jobs.values()].filter(matches).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    tbody.replaceChildren(...list.map(row));
    if (!list.length) tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted' }, 'No jobs yet.')));
  };
  const pick = (j) => {
    const box = el('input', { type: 'checkbox', class: 'pick', 'aria-label': 'select ' + j.kind + ' job ' + shortId(j.id) + ' for comparison' });
    box.checked = picked.has(j.id);
    box.addEventListener('change', () => { if (box.checked) picked.add(j.id); else picked.delete(j.id); updatePicked(); });
    return box;
  };
  const row = (j) => el('tr', { 'data-id': j.id },
    el('td', {}, pick(j)),
    el('td', {}, el('a', { href: '#/job/' + j.id, class: 'mono' }, shortId(j.id))),
    el('td', {}, j.kind), el('td', {}, stateBadge(j.state)), el('td', {}, progressCell(j)),
    el('td', {}, shortTime(j.created_at)),
    el('td', {},
      (j.state === 'queued' || j.state === 'running') && el('button', { type: 'button', onclick: () => cancel(j.id) }, 'Cancel'),
      j.state === 'succeeded' && el('button', { type: 'button', onclick: () => download(j.result.url, j.id + '.h5') }, 'Download')));
  const load = async () => {
    const p = new URLSearchParams({ limit: '100' });
    if (kindSel.value) p.set('kind', kindSel.value);
    if (stateSel.value) p.set('state', stateSel.value);
    const page = await api('/v1/jobs?' + p);
    jobs.clear();
    page.jobs.forEach((j) => jobs.set(j.id, j));
    render();
  };
  const refilter = () => {
    history.replaceState(null, '', '#/jobs?' + new URLSearchParams({ kind: kindSel.value, state: stateSel.value }));
    load();
  };
  kindSel.addEventListener('change', refilter);
  stateSel.addEventListener('change', refilter);
  await load();
  if (!window.eddyFirstPaint) {
    window.eddyFirstPaint = performance.now() - t0;
    setStatus('job list painted ' + Math.round(window.eddyFirstPaint) + ' ms after the script started');
  }
  // One event stream for the whole list; reconnects with a growing pause.
  const ctl = new AbortController();
  onLeave(() => ctl.abort());
  (async () => {
    let pause = 1000;
    while (!ctl.signal.aborted) {
      try {
        await stream('/v1/events', (name, j) => {
          if (name === 'ready') { $('#live').textContent = 'live: changes appear as they happen'; pause = 1000; return; }
          if (name === 'job') { jobs.set(j.id, j); render(); }
        }, ctl.signal);
      } catch (e) {
        if (ctl.signal.aborted) return;
        $('#live').textContent = 'live updates interrupted (' + e.message + '); retrying';
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 30000);
      if (!ctl.signal.aborted) await load().catch(() => {});
    }
  })();
}

async function cancel(id) {
  try {
    await api('/v1/jobs/' + id + '/cancel', { method: 'POST' });
    setStatus('cancellation of ' + id + ' recorded');
  } catch (e) { setStatus('cancel failed: ' + e.message); }
}

// ---- catalogue and forms ----------------------------------------------------

async function viewCatalogue(m) {
  const ks = await loadKinds();
  m.append(el('h2', {}, 'New job'), el('p', { class: 'muted' }, 'Choose a kind of job; its form lists every parameter with its meaning, default and range.'),
    el('div', { class: 'kinds' }, ks.map((k) => el('div', { class: 'card' },
      el('h3', {}, el('a', { href: '#/new/' + k.name }, k.title || k.name)),
      el('div', { class: 'mono muted' }, k.name),
      el('p', {}, k.description || '')))));
}

// fieldFor builds the input of one param from its JSON Schema; value(el)
// reads it back (undefined when left empty).
function fieldFor(name, s, required) {
  const id = 'p-' + name;
  const help = el('div', { class: 'help', id: id + '-help' }, s.description || '');
  const err = el('div', { class: 'error', id: id + '-error', role: 'alert' });
  const bounds = [];
  if (s.minimum !== undefined) bounds.push('≥ ' + s.minimum);
  if (s.exclusiveMinimum !== undefined) bounds.push('> ' + s.exclusiveMinimum);
  if (s.maximum !== undefined) bounds.push('≤ ' + s.maximum);
  if (s.exclusiveMaximum !== undefined) bounds.push('< ' + s.exclusiveMaximum);
  if (s.default !== undefined) bounds.push('default ' + JSON.stringify(s.default));
  const desc = id + '-help ' + id + '-error';
  let input, read;
  if (s.enum) {
    input = el('select', { id, name, 'aria-describedby': desc },
      !required && s.default === undefined && el('option', { value: '' }, '—'),
      s.enum.map((v) => el('option', { value: JSON.stringify(v) }, String(v))));
    if (s.default !== undefined) input.value = JSON.stringify(s.default);
    read = () => (input.value === '' ? undefined : JSON.parse(input.value));
  } else if (s.type === 'boolean') {
    input = el('input', { id, name, type: 'checkbox', 'aria-describedby': desc });
    input.checked = !!s.default;
    read = () => input.checked;
  } else if (s.type === 'array' && s.items && s.items.enum) {
    const boxes = s.items.enum.map((v) => el('input', { type: 'checkbox', value: v, name }));
    input = el('fieldset', { id, class: 'checks', 'aria-describedby': desc }, el('legend', { class: 'muted' }, 'any of'),
      boxes.map((b) => el('label', {}, b, ' ', b.value)));
    read = () => { const v = boxes.filter((b) => b.checked).map((b) => b.value); return v.length ? v : undefined; };
  } else if (s.type === 'array') {
    input = el('input', { id, name, type: 'text', placeholder: 'comma-separated', 'aria-describedby': desc });
    if (s.default) input.value = s.default.join(',');
    read = () => {
      if (!input.value.trim()) return undefined;
      return input.value.split(',').map((x) => (s.items && (s.items.type === 'integer' || s.items.type === 'number') ? Number(x.trim()) : x.trim()));
    };
  } else if (s.type === 'integer' || s.type === 'number') {
    input = el('input', { id, name, type: 'number', step: s.type === 'integer' ? '1' : 'any', required: required || undefined,
      min: s.minimum, max: s.maximum, 'aria-describedby': desc });
    if (s.default !== undefined) input.value = s.default;
    read = () => (input.value === '' ? undefined : Number(input.value));
    input.addEventListener('input', () => {
      const v = Number(input.value);
      let msg = '';
      if (input.value !== '' && s.exclusiveMinimum !== undefined && !(v > s.exclusiveMinimum)) msg = 'must be greater than ' + s.exclusiveMinimum;
      if (input.value !== '' && s.exclusiveMaximum !== undefined && !(v < s.exclusiveMaximum)) msg = 'must be less than ' + s.exclusiveMaximum;
      input.setCustomValidity(msg);
    });
  } else {
    input = el('input', { id, name, type: 'text', required: required || undefined, 'aria-describedby': desc });
    if (s.default !== undefined) input.value = s.default;
    read = () => (input.value === '' ? undefined : input.value);
    if (s.format === 'eddy-ref') {
      const list = el('datalist', { id: id + '-list' });
      input.setAttribute('list', id + '-list');
      const accepts = (s['x-eddy-ref'] && s['x-eddy-ref'].accepts) || [];
      if (accepts.includes('upload')) recentUploads().forEach((u) => list.append(el('option', { value: u.id }, 'upload ' + (u.filename || u.format))));
      const jobKinds = accepts.filter((a) => a !== 'upload');
      jobKinds.forEach((k) => api('/v1/jobs?state=succeeded&limit=20&kind=' + encodeURIComponent(k)).then((p) =>
        p.jobs.forEach((j) => list.append(el('option', { value: j.id }, k + ' job ' + shortTime(j.created_at))))).catch(() => {}));
      bounds.push('an id of ' + accepts.map((a) => (a === 'upload' ? 'an upload' : 'a ' + a + ' job')).join(' or '));
      const extra = [list];
      if (accepts.includes('upload')) {
        const file = el('input', { type: 'file', id: id + '-file', 'aria-label': 'upload a file for ' + name });
        const bar = el('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'upload progress for ' + name });
        file.addEventListener('change', () => file.files[0] && uploadFile(file.files[0], bar).then((u) => {
          input.value = u.id;
          help.append(el('div', {}, 'uploaded: ' + u.datasets.map((d) => d.name + ' ' + JSON.stringify(d.shape)).join(', ')));
        }).catch((e) => { err.textContent = e.message; }));
        extra.push(el('div', {}, el('label', { for: id + '-file', class: 'muted' }, 'or upload a file: '), file, ' ', bar));
      }
      const wrap = el('div', { class: 'field', 'data-field': name },
        el('label', { for: id }, name, required && el('span', { class: 'req' }, ' *')), help,
        bounds.length > 0 && el('div', { class: 'help' }, bounds.join('; ')), input, extra, err);
      return { wrap, input, read, err };
    }
  }
  const wrap = el('div', { class: 'field', 'data-field': name },
    el('label', { for: id }, name, required && el('span', { class: 'req', 'aria-label': 'required' }, ' *')), help,
    bounds.length > 0 && el('div', { class: 'help' }, bounds.join('; ')), input, err);
  return { wrap, input, read, err };
}

async function viewForm(m, name) {
  const ks = await loadKinds();
  const k = ks.find((x) => x.name === name);
  if (!k) throw new Error('no job kind ' + name);
  const schema = k.params_schema || { properties: {} };
  const req = new Set(schema.required || []);
  const names = Object.keys(schema.properties || {}).sort((a, b) => (req.has(b) - req.has(a)) || a.localeCompare(b));
  const fields = new Map(names.map((n) => [n, fieldFor(n, schema.properties[n], req.has(n))]));
  const general = el('div', { class: 'errorbox', role: 'alert', id: 'form-error' });
  const form = el('form', { novalidate: false, 'aria-labelledby': 'form-title' },
    [...fields.values()].map((f) => f.wrap), general,
    el('button', { type: 'submit' }, 'Submit ' + name));
  m.append(el('h2', { id: 'form-title' }, k.title || name), el('p', {}, k.description || ''),
    el('p', { class: 'muted' }, 'Outputs: ' + (k.outputs || []).join(', ')), form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fields.forEach((f) => { f.err.textContent = ''; f.input.removeAttribute('aria-invalid'); });
    general.textContent = '';
    if (!form.reportValidity()) return;
    const params = {};
    fields.forEach((f, n) => { const v = f.read(); if (v !== undefined) params[n] = v; });
    try {
      const j = await api('/v1/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: name, params }) });
      location.hash = '#/job/' + j.id;
    } catch (e) {
      showProblem(e, fields, general);
    }
  });
}

// showProblem puts each error of a problem next to the field its path names
// (/params/<name>), and the rest in the general box.
function showProblem(e, fields, general) {
  const errs = (e.problem && e.problem.errors) || [];
  let first = null;
  const rest = [];
  for (const fe of errs) {
    const m = /^\/params\/([^/]+)/.exec(fe.path || '');
    const f = m && fields.get(m[1]);
    if (f) {
      f.err.textContent = fe.message;
      f.input.setAttribute('aria-invalid', 'true');
      first = first || f.input;
    } else rest.push((fe.path ? fe.path + ': ' : '') + fe.message);
  }
  general.textContent = rest.length || !errs.length ? (rest.join('; ') || e.message) : '';
  if (first) first.focus();
}

// ---- uploads ----------------------------------------------------------------

// uploadFile sends a file as multipart field "file", showing its progress on
// bar; it resolves to the upload's JSON.
function uploadFile(file, bar) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/uploads');
    if (token()) xhr.setRequestHeader('Authorization', 'Bearer ' + token());
    bar.hidden = false;
    bar.value = 0;
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); });
    xhr.addEventListener('load', () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 201) { bar.value = 100; rememberUpload(body); resolve(body); } else reject(new ApiError(xhr.status, body));
    });
    xhr.addEventListener('error', () => reject(new Error('the upload broke off')));
    const fd = new FormData();
    fd.append('file', file);
    xhr.send(fd);
  });
}

// viewUploads shows an upload form and the caller's uploads as the API lists
// them (GET /v1/uploads, newest first), a page at a time; the list is read
// again after each upload.
function viewUploads(m) {
  const file = el('input', { type: 'file', id: 'upload-file' });
  const bar = el('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'upload progress' });
  const out = el('div', { role: 'status' });
  const list = el('tbody', { id: 'uploads-list' });
  const note = el('p', { class: 'muted', id: 'uploads-note' });
  const more = el('button', { type: 'button', id: 'uploads-more', hidden: true }, 'More');
  let cursor = null;
  const row = (u) => el('tr', {},
    el('td', { class: 'mono' }, u.id), el('td', {}, u.filename || ''), el('td', {}, u.format), el('td', {}, String(u.bytes)),
    el('td', {}, shortTime(u.created_at)),
    el('td', {}, (u.datasets || []).map((d) => d.name + ' ' + d.dtype + ' ' + JSON.stringify(d.shape)).join(', ')));
  const load = async (append) => {
    try {
      const q = new URLSearchParams({ limit: '50' });
      if (append && cursor) q.set('cursor', cursor);
      const page = await api('/v1/uploads?' + q);
      const rows = page.uploads.map(row);
      if (append) list.append(...rows); else list.replaceChildren(...rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      note.textContent = list.children.length ? '' : 'No uploads yet.';
    } catch (e) { note.textContent = 'uploads: ' + e.message; }
  };
  more.addEventListener('click', () => load(true));
  const form = el('form', {}, el('label', { for: 'upload-file' }, 'File (HDF5, MAT v5, ENVI tar, PNG, JPEG, WAV, .wlc)'), ' ', file, ' ',
    el('button', { type: 'submit' }, 'Upload'), ' ', bar);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!file.files[0]) return;
    out.textContent = '';
    try {
      const u = await uploadFile(file.files[0], bar);
      out.replaceChildren(el('p', {}, 'Stored as ', el('code', {}, u.id), ' (' + u.bytes + ' bytes); use this id as a job input.'));
      load(false);
    } catch (e) { out.replaceChildren(el('p', { class: 'errorbox' }, e.message)); }
  });
  m.append(el('h2', {}, 'Uploads'), form, out, el('h3', {}, 'Your uploads'),
    el('table', { 'aria-label': 'uploads' }, el('thead', {}, el('tr', {}, ['Id', 'File', 'Format', 'Bytes', 'Created', 'Datasets'].map((h) => el('th', { scope: 'col' }, h)))), list),
    note, more);
  load(false);
}

// ---- job page ---------------------------------------------------------------

async function viewJob(m, id) {
  let j = await api('/v1/jobs/' + encodeURIComponent(id));
  const head = el('h2', {}, j.kind + ' ', el('span', { class: 'mono muted' }, j.id));
  const body = el('div');
  const plots = el('section', { 'aria-labelledby': 'plots-h' });
  m.append(head, body, plots);
  const ctl = new AbortController();
  onLeave(() => ctl.abort());
  let plotsShown = false;
  const render = () => {
    body.replaceChildren(jobDetails(j));
    if (j.state === 'succeeded' && !plotsShown) { plotsShown = true; showPlots(plots, j); }
  };
  render();
  if (!STATES.slice(2).includes(j.state)) {
    stream('/v1/jobs/' + encodeURIComponent(id) + '/events', (name, v) => { if (name === 'job') { j = v; render(); } }, ctl.signal)
      .catch((e) => { if (!ctl.signal.aborted) setStatus('live updates of the job stopped: ' + e.message); });
  }
}

function jobDetails(j) {
  const frag = el('div');
  const dl = el('dl', { class: 'kv' },
    el('dt', {}, 'State'), el('dd', {}, stateBadge(j.state), j.attempt > 1 ? ' (attempt ' + j.attempt + ')' : ''),
    el('dt', {}, 'Created'), el('dd', {}, shortTime(j.created_at)),
    el('dt', {}, 'Started'), el('dd', {}, shortTime(j.started_at)),
    el('dt', {}, 'Finished'), el('dd', {}, shortTime(j.finished_at)),
    j.waiting_for && [el('dt', {}, 'Waiting for'), el('dd', {}, j.waiting_for.map((w) => el('a', { href: '#/job/' + w, class: 'mono' }, shortId(w) + ' ')))]);
  frag.append(dl);
  if (j.state === 'queued' || j.state === 'running') {
    const p = j.progress || {};
    const pct = Math.round(100 * (p.fraction || 0));
    frag.append(el('div', { class: 'big' },
      el('label', { for: 'job-progress' }, 'Progress ' + pct + '% ', el('span', { class: 'muted' }, p.message || '')),
      el('progress', { id: 'job-progress', max: 100, value: pct })),
    metricsTable('Live metrics', p.metrics),
    el('button', { type: 'button', onclick: () => cancel(j.id) }, 'Cancel'));
  }
  if (j.error) frag.append(el('h3', {}, 'Error'), el('pre', { class: 'errorbox', role: 'alert' }, j.error));
  if (j.warnings && j.warnings.length) frag.append(el('h3', {}, 'Warnings'), el('ul', { class: 'warn' }, j.warnings.map((w) => el('li', {}, w))));
  if (j.result) {
    frag.append(el('h3', {}, 'Result'),
      el('p', {}, el('button', { type: 'button', onclick: () => download(j.result.url, j.id + '.h5') }, 'Download HDF5'),
        ' ' + j.result.bytes + ' bytes, sha256 ', el('code', {}, j.result.sha256.slice(0, 16) + '…')),
      metricsTable('Metrics', j.result.metrics),
      el('details', {}, el('summary', {}, 'Datasets (.npy)'),
        el('ul', {}, j.result.datasets.map((d) => el('li', {}, el('a', { href: '/v1/jobs/' + j.id + '/datasets/' + d, onclick: (ev) => {
          if (token()) { ev.preventDefault(); download('/v1/jobs/' + j.id + '/datasets/' + d, d.replaceAll('/', '_') + '.npy'); }
        } }, d))))));
  }
  frag.append(el('details', {}, el('summary', {}, 'Params'), el('pre', { class: 'mono' }, JSON.stringify(j.params, null, 2))));
  return frag;
}

function metricsTable(title, metrics) {
  if (!metrics || !Object.keys(metrics).length) return null;
  const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : JSON.stringify(v));
  return el('table', { class: 'metrics', 'aria-label': title },
    el('caption', { class: 'muted' }, title),
    el('tbody', {}, Object.keys(metrics).sort().map((k) => el('tr', {}, el('th', { scope: 'row' }, k), el('td', { class: 'mono' }, fmt(metrics[k]))))));
}

async function showPlots(section, j) {
  section.append(el('h3', { id: 'plots-h' }, 'Plots'));
  let list;
  try { list = (await api('/v1/jobs/' + j.id + '/plots')).plots; } catch (e) { section.append(el('p', { class: 'errorbox' }, e.message)); return; }
  if (!list.length) { section.append(el('p', { class: 'muted' }, 'This result has no plots.')); return; }
  const grid = el('div', { class: 'plots' });
  section.append(grid);
  for (const p of list) grid.append(plotCard(p));
}

// withQuery appends query parameters to a URL that may already have some.
function withQuery(url, q) {
  const qs = q.toString();
  return qs ? url + (url.includes('?') ? '&' : '?') + qs : url;
}

function plotCard(p) {
  const img = el('img', { alt: 'plot of ' + p.title });
  const idx = {};
  const caption = el('span', { class: 'muted' });
  let pending = 0;
  const refresh = async () => {
    const q = new URLSearchParams(idx);
    const url = withQuery(p.url, q);
    const mine = ++pending;
    try {
      const src = await authURL(url);
      if (mine === pending) { img.src = src; img.alt = 'plot of ' + p.title + ' ' + q.toString().replaceAll('&', ', '); }
    } catch (e) { caption.textContent = e.message; }
  };
  const sliders = p.selectors.map((s) => {
    idx[s.name] = 0;
    const id = 'sel-' + p.name.replaceAll('/', '_') + '-' + s.name;
    const out = el('output', { for: id }, '0');
    const r = el('input', { type: 'range', id, min: 0, max: s.size - 1, step: 1, value: 0 });
    let timer = null;
    r.addEventListener('input', () => {
      out.textContent = r.value;
      idx[s.name] = r.value;
      clearTimeout(timer);
      timer = setTimeout(refresh, 120);
    });
    return el('label', { for: id }, s.name + ' ', out, ' of ' + (s.size - 1), r);
  });
  const svg = el('a', { href: withQuery(p.url, new URLSearchParams({ format: 'svg' })), onclick: (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(idx); q.set('format', 'svg');
    download(withQuery(p.url, q), p.name.replaceAll('/', '_') + '.svg');
  } }, 'SVG');
  refresh();
  return el('figure', { class: 'plot card' }, img, el('figcaption', {}, p.title, ' ', caption, ' ', svg),
    sliders.length ? el('div', { class: 'sliders' }, sliders) : null);
}

// ---- compare ----------------------------------------------------------------

// fmtValue shows a param or metric compactly: numbers to six digits, the
// rest as JSON; absent values as a dash.
function fmtValue(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// compareTable lays rows ({name, values, differs}) out with one column per
// job; rows that differ are marked, and with onlyDiffering the rest hidden.
function compareTable(label, rows, ids, onlyDiffering) {
  const shown = rows.filter((r) => !onlyDiffering || r.differs);
  return el('table', { class: 'compare', 'aria-label': label },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, label), ids.map((id) => el('th', { scope: 'col', class: 'mono' }, shortId(id))))),
    el('tbody', {}, shown.length ? shown.map((r) => el('tr', { class: r.differs ? 'differs' : null },
      el('th', { scope: 'row' }, r.name, r.differs ? el('span', { class: 'visually-hidden' }, ' (differs)') : null),
      r.values.map((v) => el('td', { class: 'mono' }, fmtValue(v)))))
      : el('tr', {}, el('td', { colspan: ids.length + 1, class: 'muted' }, onlyDiffering ? 'All equal.' : 'None.'))));
}

async function viewCompare(m) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const ids = (q.get('jobs') || '').split(',').filter(Boolean);
  m.append(el('h2', {}, 'Compare jobs'));
  if (ids.length < 2) {
    m.append(el('p', {}, 'Select two or more jobs of one kind in the ', el('a', { href: '#/jobs' }, 'job list'), ' and press “Compare selected”.'));
    return;
  }
  const c = await api('/v1/compare?jobs=' + encodeURIComponent(ids.join(',')));
  const jobIds = c.jobs.map((j) => j.id);
  const only = el('input', { type: 'checkbox', id: 'only-differing', checked: true });
  const params = el('div');
  const drawParams = () => params.replaceChildren(compareTable('Param', c.params, jobIds, only.checked));
  only.addEventListener('change', drawParams);
  drawParams();
  m.append(el('p', {}, c.kind + ': ', c.jobs.flatMap((j, i) => [i ? ', ' : '', el('a', { href: '#/job/' + j.id, class: 'mono' }, shortId(j.id)), ' ', stateBadge(j.state)])),
    el('h3', {}, 'Params'), el('label', { for: 'only-differing' }, only, ' only those that differ'), params,
    el('h3', {}, 'Metrics'), compareTable('Metric', c.metrics, jobIds, false));
  const section = el('section', { 'aria-labelledby': 'cmp-plots-h' }, el('h3', { id: 'cmp-plots-h' }, 'Plots'));
  m.append(section);
  if (!c.plots.length) {
    section.append(el('p', { class: 'muted' }, c.jobs.every((j) => j.state === 'succeeded')
      ? 'These results have no plots in common.' : 'Plots are compared once every job has succeeded.'));
    return;
  }
  section.append(el('p', { class: 'muted' }, 'Fields side by side share one colour scale; curves are overlaid, labelled by job.'));
  section.append(el('div', { class: 'plots compare-plots' }, c.plots.map(plotCard)));
}

// ---- start ------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  const tokenInput = document.getElementById('token');
  tokenInput.value = token();
  document.getElementById('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    localStorage.setItem('eddyToken', tokenInput.value.trim());
    setStatus(tokenInput.value.trim() ? 'token saved in this browser' : 'token cleared');
    kinds = null;
    route();
  });
  window.addEventListener('hashchange', () => { route(); main().focus(); });
  route();
});
