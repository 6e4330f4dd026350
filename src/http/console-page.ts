/**
 * The console page served at GET / (src/http/console.ts): one document, inline CSS and script,
 * no framework and no external request. It talks to the same-origin API with the bearer token
 * the user pastes, kept in sessionStorage (never in the URL). Every control has a data-testid,
 * so tests and users' scripts can drive it. The script builds DOM nodes (never innerHTML with
 * API data) and is written without template literals, so it can live in this TS string as is;
 * the form's initial values are the job defaults (protocol/defaults.ts).
 */
import { DEFAULTS } from '../protocol/defaults.ts';

export const CONSOLE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>irs-edge console</title>
<link rel="icon" href="data:,">
<style>
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f4f6f9}
header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;padding:10px 16px;background:#1d2a3a;color:#fff}
header h1{font-size:17px;margin:0;font-weight:600}
header form{display:flex;gap:6px;flex:1;min-width:260px;justify-content:flex-end}
header input{width:min(320px,100%)}
#auth-status{font-size:12px;opacity:.85}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;padding:16px;max-width:1400px;margin:0 auto}
@media (max-width:900px){main{grid-template-columns:minmax(0,1fr);padding:8px;gap:8px}header form{justify-content:flex-start}}
section.card{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:12px 14px;min-width:0}
h2{font-size:15px;margin:0 0 8px}
h3{font-size:13px;margin:12px 0 6px;color:#445}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e6e9ef;padding:5px 6px;text-align:left;vertical-align:middle}
th{font-weight:600;font-size:12px;color:#556}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
code,.mono{font:12px ui-monospace,monospace}
.bar{height:8px;background:#e6e9ef;border-radius:4px;overflow:hidden;min-width:80px}
.bar>span{display:block;height:100%;background:#2b7de9}
.st-done{color:#16794c}.st-failed{color:#b42318}.st-running{color:#2b5fb4}.st-queued{color:#7a5b00}
button{font:inherit;padding:4px 10px;border:1px solid #9aa6b8;border-radius:4px;background:#fff;cursor:pointer}
button.primary{background:#2b7de9;border-color:#2b7de9;color:#fff}
button:disabled{opacity:.5;cursor:default}
input,select,textarea{font:inherit;padding:4px 6px;border:1px solid #b7c0cd;border-radius:4px;max-width:100%}
form.work{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:6px 10px;align-items:start;margin-bottom:6px}
form.work label{padding-top:4px;font-size:13px}
form.work .full{grid-column:1/-1}
.field{display:flex;flex-direction:column;gap:2px;min-width:0}
.err{color:#b42318;font-size:12px}
.err:empty{display:none}
.ok{color:#16794c;font-size:12px;word-break:break-all}
details{border-top:1px solid #e6e9ef;padding:6px 0}
details>summary{cursor:pointer;font-weight:600;padding:2px 0}
#cert-view{grid-column:1/-1}
#cert-view iframe{width:100%;height:600px;border:1px solid #dde2ea;border-radius:4px;background:#fff}
.muted{color:#667;font-size:12px}
.row{display:flex;flex-wrap:wrap;gap:6px;align-items:center}
</style></head>
<body>
<header>
  <h1>irs-edge console</h1>
  <span id="auth-status" data-testid="auth-status">no token</span>
  <form id="token-form" autocomplete="off">
    <input id="token" data-testid="token-input" type="password" placeholder="paste a bearer token" aria-label="bearer token">
    <button class="primary" data-testid="token-save">Use token</button>
    <button type="button" data-testid="token-clear" id="token-clear">Forget</button>
  </form>
</header>
<main>
  <div style="display:flex;flex-direction:column;gap:16px;min-width:0">
    <section class="card"><h2>Jobs</h2>
      <div class="scroll"><table data-testid="jobs-table"><thead><tr><th>job</th><th>kind</th><th>status</th><th>progress</th><th>samples</th><th>ETA</th><th></th></tr></thead>
      <tbody id="jobs"></tbody></table></div>
      <p class="muted" id="jobs-note" data-testid="jobs-note">Paste a token to see this tenant's jobs.</p>
    </section>
    <section class="card"><h2>Certificates</h2>
      <div class="scroll"><table data-testid="certs-table"><thead><tr><th></th><th>certificate</th><th>kind</th><th>model</th><th>inputs</th><th>r=0</th><th>r=0.5</th><th>ACR</th><th>backend</th><th></th></tr></thead>
      <tbody id="certs"></tbody></table></div>
      <div class="row" style="margin-top:6px"><button data-testid="compare" id="compare" disabled>Compare selected</button><span class="muted">tick certificates to plot them together</span></div>
    </section>
  </div>
  <section class="card" data-testid="start-work"><h2>Start work</h2>
    <details open><summary>Upload</summary>
      <form class="work" id="f-model" data-testid="form-model">
        <label for="model-file">ONNX model</label><div class="field"><input id="model-file" name="file" type="file" accept=".onnx" data-testid="model-file"><span class="err" data-err="file"></span></div>
        <div class="full row"><button class="primary" data-testid="model-submit">Upload model</button><span class="ok" data-testid="model-result"></span><span class="err" data-err=""></span></div>
      </form>
      <form class="work" id="f-inputs" data-testid="form-inputs">
        <label for="inputs-file">inputs .npy</label><div class="field"><input id="inputs-file" name="file" type="file" accept=".npy" data-testid="inputs-file"><span class="err" data-err="file"></span></div>
        <div class="full row"><button class="primary" data-testid="inputs-submit">Upload inputs</button><span class="ok" data-testid="inputs-result"></span><span class="err" data-err=""></span></div>
      </form>
    </details>
    <details open><summary>Certify</summary>
      <form class="work" id="f-certify" data-testid="form-certify">
        <label>model</label><div class="field"><select name="model" data-testid="certify-model" data-models></select><span class="err" data-err="model"></span></div>
        <label>data</label><div class="field"><select name="data" data-testid="certify-data" data-inputs><option value="mnist:test">mnist:test (bundled)</option></select><span class="err" data-err="data"></span></div>
        <label>count</label><div class="field"><input name="data.count" value="10" data-testid="certify-count"><span class="err" data-err="data.count"></span></div>
        <label>labels</label><div class="field"><input name="data.labels" placeholder="uploaded inputs: 7,2,1,…" data-testid="certify-labels"><span class="err" data-err="data.labels"></span></div>
        <label>sigma</label><div class="field"><input name="sigma" value="0.5" data-testid="certify-sigma"><span class="err" data-err="sigma"></span></div>
        <label>n0 / n</label><div class="field"><div class="row"><input name="n0" value="${DEFAULTS.n0}" size="6" data-testid="certify-n0"><input name="n" value="1000" size="8" data-testid="certify-n"></div><span class="err" data-err="n0"></span><span class="err" data-err="n"></span></div>
        <label>alpha / seed</label><div class="field"><div class="row"><input name="alpha" value="${DEFAULTS.alpha}" size="6" data-testid="certify-alpha"><input name="seed" value="${DEFAULTS.seed}" size="6" data-testid="certify-seed"></div><span class="err" data-err="alpha"></span><span class="err" data-err="seed"></span></div>
        <div class="full row"><button class="primary" data-testid="certify-submit">Start certify</button><span class="ok" data-result></span><span class="err" data-err=""></span></div>
      </form>
    </details>
    <details><summary>Compress and recertify (IRS)</summary>
      <form class="work" id="f-compress" data-testid="form-compress">
        <label>model</label><div class="field"><select name="sha" data-testid="compress-model" data-models></select><span class="err" data-err="sha"></span></div>
        <label>method</label><div class="field"><select name="method" data-testid="compress-method"><option>prune</option><option>int8</option><option>fp16</option><option>fp16-native</option></select><span class="err" data-err="method"></span></div>
        <label>amount</label><div class="field"><input name="amount" value="0.1" placeholder="prune only" data-testid="compress-amount"><span class="err" data-err="amount"></span></div>
        <div class="full row"><button class="primary" data-testid="compress-submit">Compress</button><span class="ok" data-result></span><span class="err" data-err=""></span></div>
      </form>
      <form class="work" id="f-recertify" data-testid="form-recertify">
        <label>model f^p</label><div class="field"><select name="model" data-testid="recertify-model" data-models></select><span class="err" data-err="model"></span></div>
        <label>original</label><div class="field"><select name="original" data-testid="recertify-original" data-originals></select><span class="err" data-err="original"></span></div>
        <label>mode</label><div class="field"><select name="mode" data-testid="recertify-mode"><option value="full">full (fixed n_p)</option><option value="decision">decision (at a radius)</option><option value="adaptive">adaptive</option></select></div>
        <label>radius</label><div class="field"><input name="sequential.radius" placeholder="decision mode" data-testid="recertify-radius"><span class="err" data-err="sequential.radius"></span><span class="err" data-err="sequential"></span></div>
        <label>n_p / gamma</label><div class="field"><div class="row"><input name="np" value="${DEFAULTS.np}" size="8" data-testid="recertify-np"><input name="gamma" value="${DEFAULTS.gamma}" size="6" data-testid="recertify-gamma"></div><span class="err" data-err="np"></span><span class="err" data-err="gamma"></span></div>
        <div class="full row"><button class="primary" data-testid="recertify-submit">Start recertify</button><span class="ok" data-result></span><span class="err" data-err=""></span></div>
      </form>
    </details>
    <details><summary>Tune</summary>
      <form class="work" id="f-tune" data-testid="form-tune">
        <label>original</label><div class="field"><select name="original" data-testid="tune-original" data-originals></select><span class="err" data-err="original"></span><span class="err" data-err="model"></span></div>
        <label>candidates</label><div class="field"><input name="candidates" value="prune:0.5,prune:0.3,int8,fp16" data-testid="tune-candidates"><span class="err" data-err="candidates"></span></div>
        <label>target</label><div class="field"><div class="row">accuracy <input name="target.accuracy" value="0.8" size="5" data-testid="tune-accuracy"> at radius <input name="target.radius" value="0.5" size="5" data-testid="tune-radius"></div><span class="err" data-err="target"></span><span class="err" data-err="target.accuracy"></span><span class="err" data-err="target.radius"></span></div>
        <label>n_p</label><div class="field"><input name="np" value="${DEFAULTS.np}" data-testid="tune-np"><span class="err" data-err="np"></span></div>
        <div class="full row"><button class="primary" data-testid="tune-submit">Start tune</button><span class="ok" data-result></span><span class="err" data-err=""></span></div>
      </form>
    </details>
  </section>
  <section class="card" id="cert-view" data-testid="cert-view" hidden>
    <div class="row" style="justify-content:space-between"><h2 id="cert-title" data-testid="cert-title">Certificate</h2>
      <div class="row"><button data-testid="download-json" id="dl-json">JSON</button><button data-testid="download-tsv" id="dl-tsv">Cohen TSV</button><button id="cert-close" data-testid="cert-close">Close</button></div></div>
    <iframe id="report" data-testid="report-frame" sandbox="allow-same-origin" title="certificate report"></iframe>
  </section>
</main>
<script>
(function () {
  'use strict';
  var KEY = 'irs-token';
  var state = { jobs: [], certs: [], models: [], inputs: [], view: null, timer: 0, known: {} };
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') el.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false) el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return el;
  }
  function token() { return sessionStorage.getItem(KEY) || ''; }
  function ApiError(status, message) { this.status = status; this.message = message; }
  function api(path, init) {
    init = init || {};
    var headers = Object.assign({ authorization: 'Bearer ' + token() }, init.headers || {});
    // A request can wait on a busy worker isolate (workerd runs a job in the same isolate):
    // give up after 20 s so polling carries on instead of stalling.
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, 20000);
    return fetch(path, Object.assign({}, init, { headers: headers, signal: ctl.signal })).catch(function (e) {
      throw new ApiError(0, e && e.name === 'AbortError' ? 'the server did not answer within 20 s (busy?); retrying' : 'network error: ' + (e && e.message));
    }).then(function (res) {
      clearTimeout(timer);
      if (init.raw && res.ok) return res;
      return res.text().then(function (text) {
        var body; try { body = JSON.parse(text); } catch (e) { body = { error: text }; }
        if (!res.ok) throw new ApiError(res.status, (body && body.error) || res.statusText);
        return body;
      });
    });
  }
  function short(id) { return id ? id.slice(0, 10) : ''; }
  function fmtInt(x) { return Number(x || 0).toLocaleString('en-US'); }
  function fmtEta(s) {
    if (s === undefined || s === null) return '';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60); var r = s % 60;
    return m < 60 ? m + 'm ' + (r < 10 ? '0' : '') + r + 's' : Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
  }
  function pct(x) { return x === undefined ? '' : (100 * x).toFixed(1) + '%'; }
  function accAt(c, r) { var a = (c.summary.certifiedAccuracy || []).filter(function (x) { return x.radius === r; })[0]; return a ? a.accuracy : undefined; }

  // ---- token ----
  function setStatus(text) { $('#auth-status').textContent = text; }
  $('#token-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var t = $('#token').value.trim();
    if (!t) return;
    sessionStorage.setItem(KEY, t);
    $('#token').value = '';
    refresh(true);
  });
  $('#token-clear').addEventListener('click', function () {
    sessionStorage.removeItem(KEY);
    state.jobs = []; state.certs = []; render();
    setStatus('no token');
  });

  // ---- lists ----
  function refresh(all) {
    clearTimeout(state.timer);
    if (!token()) { setStatus('no token'); return Promise.resolve(); }
    var jobs = api('/v1/jobs').then(function (r) {
      var finished = r.jobs.some(function (j) { var was = state.known[j.id]; return was && was !== j.status && j.status === 'done'; });
      r.jobs.forEach(function (j) { state.known[j.id] = j.status; });
      state.jobs = r.jobs;
      return finished;
    });
    return jobs.then(function (finished) {
      var more = [];
      if (all || finished || !state.certs.length) more.push(api('/v1/certificates').then(function (r) { state.certs = r.certificates; }));
      if (all || finished) {
        more.push(api('/v1/models').then(function (r) { state.models = r.models; }));
        more.push(api('/v1/inputs').then(function (r) { state.inputs = r.inputs; }));
      }
      return Promise.all(more);
    }).then(function () {
      setStatus('token ok');
      render();
    }).catch(function (e) {
      setStatus(e.status === 401 ? 'token refused: ' + e.message : 'error: ' + e.message);
      $('#jobs-note').textContent = e.message;
    }).then(function () {
      var busy = state.jobs.some(function (j) { return j.status === 'queued' || j.status === 'running'; });
      if (token()) state.timer = setTimeout(function () { refresh(false); }, busy ? 1000 : 5000);
    });
  }

  function render() {
    var tb = $('#jobs'); tb.textContent = '';
    state.jobs.forEach(function (j) {
      var total = j.progress.samplesTotal || 0, done = j.progress.samplesDone || 0;
      var frac = total ? Math.min(1, done / total) : (j.status === 'done' ? 1 : 0);
      var open = j.certificateId ? h('button', { 'data-testid': 'job-open', onclick: function () { openCert(j.certificateId); } }, 'Open') : null;
      tb.appendChild(h('tr', { 'data-testid': 'job-row', 'data-job-id': j.id, 'data-status': j.status },
        h('td', { class: 'mono', title: j.id }, short(j.id)),
        h('td', {}, j.kind),
        h('td', { class: 'st-' + j.status, 'data-testid': 'job-status', title: j.error || '' }, j.status + (j.error ? ': ' + j.error.slice(0, 80) : '')),
        h('td', {}, h('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': Math.round(frac * 100), 'data-testid': 'job-progress' }, h('span', { style: 'width:' + (frac * 100).toFixed(1) + '%' }))),
        h('td', { class: 'num', 'data-testid': 'job-samples' }, fmtInt(done) + ' / ' + fmtInt(total)),
        h('td', { class: 'num', 'data-testid': 'job-eta' }, j.status === 'running' || j.status === 'queued' ? fmtEta(j.progress.etaSeconds) : ''),
        h('td', {}, open)));
    });
    $('#jobs-note').textContent = state.jobs.length ? '' : (token() ? 'No jobs yet: start one on the right.' : 'Paste a token to see this tenant\\u2019s jobs.');
    var cb = $('#certs'); cb.textContent = '';
    state.certs.forEach(function (c) {
      cb.appendChild(h('tr', { 'data-testid': 'cert-row', 'data-cert-id': c.id, 'data-kind': c.kind },
        h('td', {}, h('input', { type: 'checkbox', 'data-testid': 'cert-select', value: c.id, 'aria-label': 'select ' + c.id, onchange: updateCompare })),
        h('td', { class: 'mono', title: c.id }, short(c.id)),
        h('td', {}, c.kind),
        h('td', { class: 'mono', title: c.model }, short(c.model)),
        h('td', { class: 'num' }, c.inputs),
        h('td', { class: 'num' }, pct(accAt(c, 0))),
        h('td', { class: 'num' }, pct(accAt(c, 0.5))),
        h('td', { class: 'num' }, c.summary.acr.toFixed(3)),
        h('td', {}, c.backend),
        h('td', {}, h('button', { 'data-testid': 'cert-open', onclick: function () { openCert(c.id); } }, 'Open'))));
    });
    fillSelect('[data-models]', state.models.map(function (m) { return [m.sha256, short(m.sha256) + '\\u2026 (' + fmtInt(m.bytes) + ' B)']; }));
    fillSelect('[data-inputs]', [['mnist:test', 'mnist:test (bundled)']].concat(state.inputs.map(function (m) { return [m.sha256, 'uploaded ' + short(m.sha256) + '\\u2026']; })));
    fillSelect('[data-originals]', state.certs.filter(function (c) { return c.kind === 'certify' && c.hasCache; }).map(function (c) { return [c.id, short(c.id) + ' (model ' + short(c.model) + ', ' + c.inputs + ' inputs)']; }));
    updateCompare();
  }
  function fillSelect(sel, options) {
    $$(sel).forEach(function (s) {
      var keep = s.value;
      var same = s.options.length === options.length && options.every(function (o, i) { return s.options[i].value === o[0]; });
      if (same) return;
      s.textContent = '';
      options.forEach(function (o) { s.appendChild(h('option', { value: o[0] }, o[1])); });
      if (options.some(function (o) { return o[0] === keep; })) s.value = keep;
    });
  }
  function updateCompare() { $('#compare').disabled = $$('[data-testid=cert-select]:checked').length < 1; }
  $('#compare').addEventListener('click', function () {
    var ids = $$('[data-testid=cert-select]:checked').map(function (x) { return x.value; });
    if (ids.length) openCert(ids[0], ids.slice(1));
  });

  // ---- certificate view ----
  function openCert(id, others) {
    var cert = state.certs.filter(function (c) { return c.id === id; })[0];
    // An IRS certificate is plotted with its original; a certificate not listed yet is asked for.
    var known = others ? Promise.resolve(others) : cert ? Promise.resolve(cert.original ? [cert.original] : [])
      : api('/v1/certificates/' + id).then(function (c) { return c.original ? [c.original.id] : []; });
    state.view = id;
    return known.then(function (o) {
      others = o;
      var q = others.length ? '?with=' + others.join(',') : '';
      return api('/v1/certificates/' + id + '/report' + q, { raw: true, headers: { accept: 'text/html' } });
    }).then(function (res) { return res.text(); }).then(function (html) {
      $('#cert-title').textContent = 'Certificate ' + short(id) + (others.length ? ' with ' + others.map(short).join(', ') : '');
      // Plots shrink to the frame's width (phones); the frame grows to the report's height.
      $('#report').srcdoc = html.replace('</head>', '<style>svg{max-width:100%;height:auto}body{margin:12px}</style></head>');
      $('#cert-view').hidden = false;
      $('#cert-view').scrollIntoView({ behavior: 'smooth', block: 'start' });
    }).catch(function (e) { setStatus('error: ' + e.message); });
  }
  function download(accept, ext) {
    if (!state.view) return;
    api('/v1/certificates/' + state.view, { raw: true, headers: { accept: accept } }).then(function (res) { return res.blob(); }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = h('a', { href: url, download: state.view + ext });
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }).catch(function (e) { setStatus('error: ' + e.message); });
  }
  $('#dl-json').addEventListener('click', function () { download('application/json', '.json'); });
  $('#dl-tsv').addEventListener('click', function () { download('text/tab-separated-values', '.tsv'); });
  $('#report').addEventListener('load', function () {
    var doc = $('#report').contentDocument;
    if (doc && doc.body) $('#report').style.height = (doc.documentElement.scrollHeight + 4) + 'px';
  });
  $('#cert-close').addEventListener('click', function () { $('#cert-view').hidden = true; state.view = null; });

  // ---- forms ----
  function num(v) { var t = String(v).trim(); return t !== '' && isFinite(Number(t)) ? Number(t) : t; }
  function clearErrors(form) { $$('.err', form).forEach(function (e) { e.textContent = ''; }); var r = $('[data-result]', form); if (r) r.textContent = ''; }
  /** API validation errors read "field.path: message; …": each goes beside the field it names. */
  function showError(form, message) {
    String(message).split('; ').forEach(function (part) {
      var m = /^([A-Za-z0-9_.()]+): ([\\s\\S]*)$/.exec(part);
      var path = m ? m[1] : '', text = m ? m[2] : part;
      var target = null;
      for (var p = path; p && !target; p = p.indexOf('.') > 0 ? p.slice(0, p.lastIndexOf('.')) : '') {
        target = $('[data-err="' + p + '"]', form);
        if (!target && /\\.\\d+$/.test(p)) continue;
      }
      target = target || $('[data-err=""]', form);
      target.textContent = (target.textContent ? target.textContent + '; ' : '') + (target.getAttribute('data-err') === path ? text : part);
    });
  }
  function submitting(form, work) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      clearErrors(form);
      var btn = $('button.primary', form); btn.disabled = true;
      Promise.resolve().then(function () { return work(form); }).then(function (msg) {
        var r = $('[data-result]', form) || $('.ok', form); if (r && msg) r.textContent = msg;
        return refresh(true);
      }).catch(function (err) { showError(form, err.message || String(err)); }).then(function () { btn.disabled = false; });
    });
  }
  function val(form, name) { var el = form.elements.namedItem(name); return el ? el.value : ''; }
  function upload(form, path, testid) {
    var file = form.elements.namedItem('file').files[0];
    if (!file) throw new ApiError(400, 'file: choose a file');
    return file.arrayBuffer().then(function (buf) {
      return api(path, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: buf });
    }).then(function (r) {
      $('[data-testid=' + testid + ']', form).textContent = 'stored ' + r.sha256 + (r.count ? ' (' + r.count + ' inputs)' : ' (' + fmtInt(r.bytes) + ' B)');
      return '';
    });
  }
  function startJob(body) {
    return api('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (j) { state.known[j.id] = j.status; return 'started job ' + short(j.id) + ' (' + j.status + ')'; });
  }
  submitting($('#f-model'), function (f) { return upload(f, '/v1/models', 'model-result'); });
  submitting($('#f-inputs'), function (f) { return upload(f, '/v1/inputs', 'inputs-result'); });
  submitting($('#f-certify'), function (f) {
    var source = val(f, 'data');
    var data = source === 'mnist:test' ? { source: 'mnist:test' } : { inputs: source };
    if (val(f, 'data.count').trim()) data.count = num(val(f, 'data.count'));
    var labels = val(f, 'data.labels').trim();
    if (labels && source !== 'mnist:test') data.labels = labels.split(/[ ,]+/).filter(Boolean).map(num);
    var body = { kind: 'certify', model: val(f, 'model'), data: data };
    ['sigma', 'n0', 'n', 'alpha', 'seed'].forEach(function (k) { if (val(f, k).trim()) body[k] = num(val(f, k)); });
    return startJob(body);
  });
  submitting($('#f-compress'), function (f) {
    var body = { method: val(f, 'method') };
    if (body.method === 'prune' && val(f, 'amount').trim()) body.amount = num(val(f, 'amount'));
    if (!val(f, 'sha')) throw new ApiError(400, 'sha: upload a model first');
    return api('/v1/models/' + val(f, 'sha') + '/compress', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return 'variant ' + r.sha256 + ' stored; pick it below to recertify'; });
  });
  submitting($('#f-recertify'), function (f) {
    var body = { kind: 'recertify', model: val(f, 'model'), original: val(f, 'original') };
    ['np', 'gamma'].forEach(function (k) { if (val(f, k).trim()) body[k] = num(val(f, k)); });
    var mode = val(f, 'mode');
    if (mode !== 'full') {
      body.sequential = { mode: mode };
      if (val(f, 'sequential.radius').trim()) body.sequential.radius = num(val(f, 'sequential.radius'));
    }
    return startJob(body);
  });
  submitting($('#f-tune'), function (f) {
    var original = val(f, 'original');
    var cert = state.certs.filter(function (c) { return c.id === original; })[0];
    var candidates = val(f, 'candidates').split(',').map(function (s) { return s.trim(); }).filter(Boolean).map(function (s) {
      var p = s.split(':'); return p[0] === 'prune' ? { method: 'prune', amount: num(p[1] || '') } : { method: p[0] };
    });
    var body = { kind: 'tune', model: cert ? cert.model : '', original: original, candidates: candidates,
      target: { accuracy: num(val(f, 'target.accuracy')), radius: num(val(f, 'target.radius')) } };
    if (val(f, 'np').trim()) body.np = num(val(f, 'np'));
    return startJob(body);
  });

  render();
  if (token()) refresh(true);
})();
</script>
</body></html>
`;
