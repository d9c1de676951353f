// Drives headless Chromium through the DevTools protocol against a running
// Eddy server, as a person would use the UI:
//
//   node --experimental-websocket browser.mjs CHROMIUM BASE_URL OUT_DIR
//
// opens the job list (its first paint is measured, not asserted), the
// catalogue and the poisson.solve form; submits a value the server refuses
// and checks that its message appears next to the field; submits a valid
// job, watches it reach succeeded, waits for its plots, and downloads its
// HDF5 file; runs a second job, ticks both in the job list and compares
// them; opens the API reference at /docs and checks that nothing was fetched
// from another host. Screenshots of every page go to OUT_DIR. Prints one
// JSON line of measurements (also written to OUT_DIR/measures.json) and
// "N passed, N failed".
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [chromiumPath, base, out] = process.argv.slice(2);
let passed = 0, failed = 0;
const measures = {};
function check(what, ok, detail = '') {
  if (ok) passed++; else { failed++; console.log('FAIL', what, detail); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const profile = mkdtempSync(join(tmpdir(), 'eddy-chromium-'));
const chrome = spawn(chromiumPath, ['--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0',
  '--user-data-dir=' + profile, '--window-size=1280,1000', '--no-first-run', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
const wsURL = await new Promise((resolve, reject) => {
  let err = '';
  chrome.stderr.on('data', (d) => {
    err += d;
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
    if (m) resolve(m[1]);
  });
  chrome.on('exit', (c) => reject(new Error('chromium exited ' + c + ': ' + err)));
  setTimeout(() => reject(new Error('chromium did not start: ' + err)), 30000);
});

const ws = new WebSocket(wsURL);
await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
let nextId = 1;
const waiting = new Map();
// Every request the page sends, and why any failed (blockedReason "csp" for
// one the page's policy refused before it left the browser).
const requests = new Map();
ws.onmessage = (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.method === 'Network.requestWillBeSent') requests.set(msg.params.requestId, { url: msg.params.request.url });
  if (msg.method === 'Network.loadingFailed' && requests.has(msg.params.requestId)) {
    requests.get(msg.params.requestId).blocked = msg.params.blockedReason || msg.params.errorText;
  }
  if (msg.id && waiting.has(msg.id)) {
    const { resolve, reject } = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (msg.error) reject(new Error(JSON.stringify(msg.error))); else resolve(msg.result);
  }
};
function send(method, params = {}, sessionId) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params, sessionId }));
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}

const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
const page = (m, p) => send(m, p, sessionId);
await page('Page.enable');
await page('Runtime.enable');
await page('Network.enable');
await send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: out, eventsEnabled: true });

async function evaluate(expr) {
  const r = await page('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true });
  if (r.exceptionDetails) throw new Error(expr + ': ' + JSON.stringify(r.exceptionDetails));
  return r.result.value;
}
async function until(what, expr, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if (await evaluate(expr)) return true; } catch (_) { /* page loading */ }
    if (Date.now() > end) { check(what, false, 'timed out: ' + expr); return false; }
    await sleep(100);
  }
}
async function shot(name, whole = true) {
  const { data } = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: whole });
  writeFileSync(join(out, name + '.png'), Buffer.from(data, 'base64'));
}
async function go(hash) {
  await page('Page.navigate', { url: base + '/' + hash });
}

try {
  // The job list, and its first paint.
  await go('#/jobs');
  await until('job list painted', 'window.eddyFirstPaint !== undefined');
  measures.jobListScriptToPaintMs = await evaluate('Math.round(window.eddyFirstPaint)');
  measures.firstContentfulPaintMs = await evaluate(
    "Math.round((performance.getEntriesByName('first-contentful-paint')[0] || {startTime: -1}).startTime)");
  measures.domContentLoadedMs = await evaluate("Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd)");
  await until('live stream', "document.getElementById('live') && document.getElementById('live').textContent.startsWith('live')");
  // Again with the browser and the server warm: a reload, as a person
  // coming back to the tab would.
  await page('Page.reload', { ignoreCache: false });
  await until('job list painted after a reload', "window.eddyFirstPaint !== undefined && performance.getEntriesByName('first-contentful-paint').length > 0");
  measures.warmFirstContentfulPaintMs = await evaluate("Math.round(performance.getEntriesByName('first-contentful-paint')[0].startTime)");
  measures.warmJobListScriptToPaintMs = await evaluate('Math.round(window.eddyFirstPaint)');
  // Where the time goes: when the page's HTML, its stylesheet and script
  // had arrived, after navigation started.
  measures.warmTimeline = await evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const out = { htmlResponseEnd: Math.round(nav.responseEnd) };
    for (const r of performance.getEntriesByType('resource')) {
      const name = r.name.split('/').pop();
      if (name === 'app.js' || name === 'app.css') out[name + 'ResponseEnd'] = Math.round(r.responseEnd);
    }
    out.scriptStart = Math.round(window.eddyScriptStart || -1);
    out.domContentLoaded = Math.round(nav.domContentLoadedEventEnd);
    return out;
  })()`);
  await until('live stream after a reload', "document.getElementById('live') && document.getElementById('live').textContent.startsWith('live')");
  await shot('jobs');

  // The catalogue lists every kind.
  await go('#/new');
  await until('catalogue', "document.querySelectorAll('.kinds .card').length >= 6");
  await shot('catalogue');

  // A value the form accepts but the server refuses (the memory estimate of a
  // 3-D grid of 8192³ cells): the server's message is shown at the field.
  await go('#/new/poisson.solve');
  await until('form', "document.getElementById('p-n') !== null");
  await evaluate(`(() => { const n = document.getElementById('p-n'); n.value = '8192';
    document.getElementById('p-dim').value = '3'; document.querySelector('main form button[type=submit]').click(); })()`);
  await until('server error at the field', "document.getElementById('p-n-error').textContent.length > 0");
  const msg = await evaluate("document.getElementById('p-n-error').textContent");
  check('server message next to n', /cells|memory|bytes/i.test(msg), msg);
  check('field marked invalid', await evaluate("document.getElementById('p-n').getAttribute('aria-invalid') === 'true'"));
  await shot('form-error');

  // Client-side bounds: below the minimum, nothing is sent.
  await evaluate(`(() => { document.getElementById('p-n').value = '1'; document.getElementById('p-n-error').textContent = '';
    document.querySelector('main form button[type=submit]').click(); })()`);
  await sleep(300);
  check('client-side minimum', await evaluate("location.hash === '#/new/poisson.solve' && !document.getElementById('p-n').validity.valid"));

  // A valid job: submitted, followed to succeeded, its plots shown.
  await evaluate(`(() => { document.getElementById('p-n').value = '48'; document.getElementById('p-dim').value = '2';
    document.querySelector('main form button[type=submit]').click(); })()`);
  await until('job page', "location.hash.startsWith('#/job/')");
  const id = await evaluate("location.hash.slice(6)");
  await until('job succeeded', "document.querySelector('.state-succeeded') !== null");
  await until('plots drawn', "((l) => l.length >= 4 && l.every((i) => i.complete && i.naturalWidth > 0))([...document.querySelectorAll('.plot img')])");
  measures.plots = await evaluate("document.querySelectorAll('.plot img').length");
  check('plots listed', measures.plots >= 4, measures.plots);
  await shot('job');

  // Download the HDF5 result.
  await evaluate("[...document.querySelectorAll('button')].find((b) => b.textContent === 'Download HDF5').click()");
  const file = join(out, id + '.h5');
  const end = Date.now() + 30000;
  while (!(existsSync(file) && statSync(file).size > 0) && Date.now() < end) await sleep(100);
  check('download', existsSync(file) && readFileSync(file).subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])), file);

  // The job list shows the job, and its filters work.
  await go('#/jobs?state=succeeded&kind=poisson.solve');
  await until('filtered list', `document.querySelector('tr[data-id="${id}"]') !== null`);
  await shot('jobs-filtered');
  await go('#/uploads');
  await until('uploads page', "document.getElementById('upload-file') !== null");
  await shot('uploads');

  // Compare: a second solve on another grid, both ticked in the job list,
  // "Compare selected", and the comparison with its params, metrics and
  // plots.
  const id2 = await evaluate(`fetch('/v1/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kind: 'poisson.solve', params: { dim: 2, n: 32 } }) }).then((r) => r.json()).then((j) => j.id)`);
  await go('#/jobs?kind=poisson.solve');
  await until('second job succeeded', `document.querySelector('tr[data-id="${id2}"] .state-succeeded') !== null`);
  await evaluate(`[${JSON.stringify(id)}, ${JSON.stringify(id2)}].forEach((j) => document.querySelector('tr[data-id="' + j + '"] input.pick').click())`);
  check('compare enabled', await evaluate("!document.getElementById('compare-selected').disabled"));
  await evaluate("document.getElementById('compare-selected').click()");
  await until('compare page', "location.hash.startsWith('#/compare?jobs=')");
  await until('compare plots drawn', "((l) => l.length >= 3 && l.every((i) => i.complete && i.naturalWidth > 0))([...document.querySelectorAll('.compare-plots img')])");
  check('params differ', await evaluate("[...document.querySelectorAll('table.compare tr.differs th')].some((th) => th.textContent.startsWith('n'))"));
  check('metrics side by side', await evaluate("document.querySelectorAll('table[aria-label=Metric] tbody tr').length > 0"));
  measures.comparePlots = await evaluate("document.querySelectorAll('.compare-plots img').length");
  await shot('compare');

  // River's operator UI (the API is open here, so no token is needed).
  await page('Page.navigate', { url: base + '/riverui/jobs?state=completed' });
  await until('riverui lists the River jobs', "document.title === 'River' && document.body.innerText.includes('eddy_run')", 30000);
  await sleep(1000);
  await shot('riverui', false);

  // The API reference: Redoc renders /openapi.json; nothing is fetched from
  // elsewhere (a request to another host is allowed only if the page's
  // policy refused it).
  requests.clear();
  await page('Page.navigate', { url: base + '/docs' });
  await until('docs rendered', "document.body.dataset.rendered === 'true' && document.querySelectorAll('[data-section-id]').length > 10", 60000);
  await sleep(500);
  const origin = new URL(base).origin;
  const away = [...requests.values()].filter((r) => !r.url.startsWith(origin) && !/^(data|blob):/.test(r.url) && r.blocked !== 'csp');
  check('docs fetch nothing from elsewhere', away.length === 0, JSON.stringify(away));
  measures.docsRequests = requests.size;
  measures.docsOperations = await evaluate("document.querySelectorAll('[data-section-id^=\"operation/\"]').length");
  check('docs list the operations', measures.docsOperations >= 20, measures.docsOperations);
  await shot('docs', false); // the first screenful: the whole reference is some 20,000 pixels tall
} catch (e) {
  check('browser session', false, e.stack || String(e));
} finally {
  console.log(JSON.stringify(measures));
  try { writeFileSync(join(out, 'measures.json'), JSON.stringify(measures) + '\n'); } catch (_) { /* reported above */ }
  console.log(`${passed} passed, ${failed} failed`);
  ws.close();
  chrome.kill();
  await new Promise((r) => { if (chrome.exitCode !== null) r(); else chrome.on('exit', r); });
  try { rmSync(profile, { recursive: true, force: true }); } catch (_) { /* chromium's last writes */ }
  process.exit(failed ? 1 : 0);
}
