// The HTML report: one self-contained page (inline CSS, JS and data; no
// network) that a person would rather look at than read: the gate, verdict
// counts, a chart of verdicts over time, the signature table with examples,
// and a drill-down per correlation ID with both sides and the differences
// highlighted.
import { createHash } from 'node:crypto';
import type { ReportModel } from './model.js';

const escapeHtml = (text: string) => text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The config file's name (the Run tab has the whole description). */
function shortSource(source: string): string {
  const file = source.split(' (')[0] ?? source;
  return file.split('/').pop() ?? file;
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function renderHtml(model: ReportModel): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top">
  <div>
    <h1>${escapeHtml(model.title)}</h1>
    <div class="sub">${escapeHtml(model.run.prod.label)} <span class="muted">${escapeHtml(shortSource(model.run.prod.source))}</span> against ${escapeHtml(model.run.uat.label)} <span class="muted">${escapeHtml(shortSource(model.run.uat.source))}</span></div>
  </div>
  <div id="gate" class="gate ${model.gate.failed ? 'fail' : 'pass'}"><strong>${model.gate.failed ? 'FAIL' : 'PASS'}</strong><span>${escapeHtml(model.gate.reason)}</span></div>
</header>
<nav class="tabs" id="tabs">
  <a href="#summary" data-tab="summary" class="active">Summary</a>
  <a href="#signatures" data-tab="signatures">Signatures <span class="count" id="sig-count"></span></a>
  <a href="#pairs" data-tab="pairs">Drill-down <span class="count" id="pair-count"></span></a>
  <a href="#checksums" data-tab="checksums">Checksums</a>
  <a href="#run" data-tab="run">Run</a>
</nav>
<main>
  <section id="summary" class="tab active">
    <div class="cards" id="cards"></div>
    <div class="panel"><h2>Verdicts by reconciler</h2><div id="by-reconciler"></div></div>
    <div class="panel"><h2>Verdicts over time</h2><div id="chart"></div></div>
    <div class="panel"><h2>Top signatures</h2><div id="top-signatures"></div></div>
  </section>
  <section id="signatures" class="tab">
    <div class="toolbar">
      <label>Show <select id="sig-filter"><option value="all">all</option><option value="new" selected>new</option><option value="accepted">accepted</option><option value="noise">noise</option></select></label>
      <span class="muted" id="sig-summary"></span>
    </div>
    <table class="grid" id="signature-table"><thead><tr><th>Status</th><th>Reconciler</th><th>Path</th><th>Kind</th><th>Rule</th><th class="num">Pairs</th><th class="num">Diffs</th><th>Examples</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="pairs" class="tab">
    <div class="split">
      <aside class="list">
        <div class="toolbar col">
          <input id="pair-search" type="search" placeholder="Correlation ID or signature…">
          <select id="pair-verdict"><option value="">every verdict</option></select>
        </div>
        <ul id="pair-list"></ul>
        <div class="muted small" id="pair-omitted"></div>
      </aside>
      <article id="pair-detail" class="detail"><p class="muted">Choose a correlation ID.</p></article>
    </div>
  </section>
  <section id="checksums" class="tab"><div class="panel"><h2>Per-partition checksums</h2><p class="muted">Before any field is compared: does each partition of correlation IDs hold the same IDs on both sides?</p><div id="checksum-body"></div></div></section>
  <section id="run" class="tab"><div class="panel"><h2>Run</h2><div id="run-body"></div></div></section>
</main>
<footer class="muted small">Generated ${escapeHtml(model.generatedAt)} by kepler regress · run ${escapeHtml(model.run.id)}</footer>
<script type="application/json" id="report-data">${scriptJson(model)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}

const CSS = `
:root { --bg:#f6f7f9; --panel:#fff; --ink:#1d2330; --muted:#6b7385; --line:#e3e6ec; --accent:#2f5bea;
  --MATCHED:#2e9d5b; --LATE_MATCH:#63b88a; --DIFFERENT:#d64545; --LATE_DIFFERENT:#ee8a3c; --MISSING_IN_PROD:#8a55d6; --MISSING_IN_UAT:#c044a8; --PENDING:#9aa3b5; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header.top { display:flex; justify-content:space-between; align-items:center; gap:24px; padding:18px 28px; background:#171c2b; color:#fff; }
header.top h1 { margin:0; font-size:20px; font-weight:600; }
header.top .sub { margin-top:4px; color:#c9cfdd; }
header.top .muted { color:#8e97ab; }
.gate { display:flex; flex-direction:column; align-items:flex-end; padding:8px 14px; border-radius:8px; min-width:180px; }
.gate strong { font-size:18px; letter-spacing:.08em; }
.gate span { font-size:12px; opacity:.9; text-align:right; }
.gate.pass { background:#1f7a46; } .gate.fail { background:#b32f2f; }
nav.tabs { display:flex; gap:4px; padding:0 28px; background:#fff; border-bottom:1px solid var(--line); position:sticky; top:0; z-index:2; }
nav.tabs a { padding:12px 14px; color:var(--muted); text-decoration:none; border-bottom:2px solid transparent; }
nav.tabs a.active { color:var(--ink); border-color:var(--accent); font-weight:600; }
.count { background:#eef1f7; border-radius:10px; padding:0 7px; font-size:12px; }
main { padding:20px 28px 40px; }
.tab { display:none; } .tab.active { display:block; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:16px 18px; margin-bottom:18px; }
.panel h2 { margin:0 0 12px; font-size:15px; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap:12px; margin-bottom:18px; }
.card { background:var(--panel); border:1px solid var(--line); border-left:5px solid var(--c, var(--accent)); border-radius:10px; padding:12px 14px; }
.card .n { font-size:26px; font-weight:700; }
.card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.05em; }
.bar { display:flex; height:18px; border-radius:4px; overflow:hidden; background:#eef1f7; min-width:200px; }
.bar span { display:block; height:100%; }
table.grid { width:100%; border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:10px; overflow:hidden; }
table.grid th, table.grid td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
table.grid th { background:#f0f2f6; font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:11.5px; font-weight:600; color:#fff; background:var(--c, #777); white-space:nowrap; }
.status-new { background:#d64545; } .status-accepted { background:#2e9d5b; } .status-noise { background:#8a93a6; }
.example { border:1px solid var(--line); background:#f7f8fb; border-radius:6px; padding:1px 7px; margin:1px 2px; cursor:pointer; font-family:ui-monospace, monospace; font-size:12px; color:var(--accent); }
.example:hover { background:#e8edfb; }
.toolbar { display:flex; gap:12px; align-items:center; margin-bottom:12px; }
.toolbar.col { flex-direction:column; align-items:stretch; }
.toolbar input, .toolbar select { padding:6px 8px; border:1px solid var(--line); border-radius:6px; font:inherit; }
.split { display:grid; grid-template-columns: 320px 1fr; gap:16px; align-items:start; }
aside.list { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:12px; position:sticky; top:56px; max-height:calc(100vh - 80px); overflow:auto; }
#pair-list { list-style:none; margin:0; padding:0; }
#pair-list li { padding:6px 8px; border-radius:6px; cursor:pointer; display:flex; justify-content:space-between; gap:8px; align-items:center; }
#pair-list li:hover { background:#f0f3fa; } #pair-list li.selected { background:#e3e9fb; }
#pair-list .cid { font-family:ui-monospace, monospace; font-size:12.5px; overflow:hidden; text-overflow:ellipsis; }
#pair-list .rec { color:var(--muted); font-size:11px; }
.detail { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:16px 18px; min-height:300px; }
.detail h2 { margin:0 0 6px; font-family:ui-monospace, monospace; font-size:17px; }
.meta { color:var(--muted); margin-bottom:12px; }
.sides { display:grid; grid-template-columns: 1fr 1fr; gap:12px; margin-top:14px; }
.side { border:1px solid var(--line); border-radius:8px; overflow:auto; max-height:560px; }
.side h3 { margin:0; padding:7px 10px; background:#f0f2f6; font-size:13px; position:sticky; top:0; }
.json { padding:8px 10px; font-family:ui-monospace, monospace; font-size:12px; white-space:nowrap; }
.jc { padding-left:16px; } .jk { color:#7a3e9d; } .absent { color:var(--muted); font-style:italic; padding:10px; }
.hl { border-radius:3px; outline:2px solid transparent; }
.hl-CHANGED { background:#ffe2e0; outline-color:#f3a39d; }
.hl-MISSING_IN_UAT, .hl-MISSING_IN_PROD { background:#fff0c7; outline-color:#ecc55a; }
.hl.flash { outline-color:#2f5bea; }
tr.diff-row { cursor:pointer; } tr.diff-row:hover { background:#f5f7fc; }
.value { max-width:320px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.muted { color:var(--muted); } .small { font-size:12px; }
footer { padding:0 28px 24px; }
.legend { display:flex; flex-wrap:wrap; gap:12px; margin-top:8px; font-size:12px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:middle; }
.history { margin:8px 0 0; padding-left:18px; color:var(--muted); font-size:12.5px; }
`;

// Plain browser JavaScript (no template literals inside, so it can live in this string).
const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var VERDICTS = ['MATCHED', 'LATE_MATCH', 'DIFFERENT', 'LATE_DIFFERENT', 'MISSING_IN_PROD', 'MISSING_IN_UAT', 'PENDING'];
  var LABEL = { MATCHED: 'Matched', LATE_MATCH: 'Late match', DIFFERENT: 'Different', LATE_DIFFERENT: 'Late different', MISSING_IN_PROD: 'Missing in ' + data.run.prod.label, MISSING_IN_UAT: 'Missing in ' + data.run.uat.label, PENDING: 'Pending' };
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function esc(s) { return String(s).replace(/[<>&"']/g, function (c) { return { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' }[c]; }); }
  function color(v) { return 'var(--' + v + ')'; }
  function fmt(n) { return Number(n).toLocaleString('en'); }
  function badge(v) { return '<span class="badge" style="--c:' + color(v) + '">' + esc(LABEL[v] || v) + '</span>'; }
  function time(ms) { return ms == null ? '' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ''); }

  // Tabs, with the hash as the address of a view.
  function show(tab) {
    $$('.tab').forEach(function (el) { el.classList.toggle('active', el.id === tab); });
    $$('#tabs a').forEach(function (a) { a.classList.toggle('active', a.getAttribute('data-tab') === tab); });
  }
  $$('#tabs a').forEach(function (a) {
    a.addEventListener('click', function (e) { e.preventDefault(); show(a.getAttribute('data-tab')); history.replaceState(null, '', '#' + a.getAttribute('data-tab')); });
  });

  // Summary cards.
  var total = data.totals.pairs, bv = data.totals.byVerdict;
  var cards = [{ n: total, l: 'Pairs', c: 'var(--accent)' }];
  VERDICTS.forEach(function (v) { if (bv[v] > 0 || v === 'MATCHED' || v === 'DIFFERENT') cards.push({ n: bv[v], l: LABEL[v], c: color(v), v: v }); });
  cards.push({ n: data.signatureCounts['new'], l: 'New signatures', c: '#d64545' });
  cards.push({ n: data.signatureCounts.accepted + data.signatureCounts.noise, l: 'Known / noise', c: '#8a93a6' });
  $('#cards').innerHTML = cards.map(function (c) {
    return '<div class="card" style="--c:' + c.c + '"' + (c.v ? ' data-verdict="' + c.v + '"' : '') + '><div class="n">' + fmt(c.n) + '</div><div class="l">' + esc(c.l) + '</div></div>';
  }).join('');

  function stacked(counts, sum) {
    return '<div class="bar">' + VERDICTS.map(function (v) {
      var n = counts[v] || 0; if (!n || !sum) return '';
      return '<span title="' + esc(LABEL[v]) + ': ' + fmt(n) + '" style="width:' + (100 * n / sum) + '%;background:' + color(v) + '"></span>';
    }).join('') + '</div>';
  }
  $('#by-reconciler').innerHTML = '<table class="grid"><thead><tr><th>Reconciler</th><th>Version</th><th class="num">Pairs</th><th style="width:40%">Verdicts</th>' +
    VERDICTS.map(function (v) { return '<th class="num">' + esc(LABEL[v]) + '</th>'; }).join('') + '</tr></thead><tbody>' +
    data.byReconciler.map(function (r) {
      return '<tr><td><strong>' + esc(r.reconciler) + '</strong></td><td>' + esc(r.version || '') + '</td><td class="num">' + fmt(r.pairs) + '</td><td>' + stacked(r.byVerdict, r.pairs) + '</td>' +
        VERDICTS.map(function (v) { return '<td class="num">' + (r.byVerdict[v] ? fmt(r.byVerdict[v]) : '<span class="muted">0</span>') + '</td>'; }).join('') + '</tr>';
    }).join('') + '</tbody></table>';

  // Verdicts over time: stacked bars per time bucket, as SVG.
  (function chart() {
    var buckets = data.timeline.buckets;
    if (!buckets.length) { $('#chart').innerHTML = '<p class="muted">No verdicts yet.</p>'; return; }
    var W = 900, H = 220, P = 34, max = 1;
    buckets.forEach(function (b) { var s = 0; VERDICTS.forEach(function (v) { s += b.counts[v] || 0; }); if (s > max) max = s; });
    var first = buckets[0].at, last = buckets[buckets.length - 1].at, step = data.timeline.bucketMs;
    var n = Math.max(Math.round((last - first) / step) + 1, 24), bw = (W - P - 10) / n;
    var svg = '<svg id="verdict-chart" viewBox="0 0 ' + W + ' ' + H + '" width="100%" role="img" aria-label="Verdicts over time">';
    svg += '<line x1="' + P + '" y1="' + (H - 24) + '" x2="' + W + '" y2="' + (H - 24) + '" stroke="#ccd"/>';
    svg += '<text x="' + (P - 6) + '" y="14" font-size="11" text-anchor="end" fill="#6b7385">' + fmt(max) + '</text>';
    buckets.forEach(function (b) {
      var i = Math.round((b.at - first) / step), x = P + i * bw + 1, y = H - 24;
      VERDICTS.forEach(function (v) {
        var c = b.counts[v] || 0; if (!c) return;
        var h = (H - 40) * c / max; y -= h;
        svg += '<rect class="bar-' + v + '" x="' + x.toFixed(1) + '" y="' + y.toFixed(1) + '" width="' + Math.max(bw - 2, 1).toFixed(1) + '" height="' + h.toFixed(1) + '" fill="' + color(v) + '"><title>' + esc(time(b.at)) + ' — ' + esc(LABEL[v]) + ': ' + fmt(c) + '</title></rect>';
      });
    });
    svg += '<text x="' + P + '" y="' + (H - 6) + '" font-size="11" fill="#6b7385">' + esc(time(first)) + '</text>';
    svg += '<text x="' + W + '" y="' + (H - 6) + '" font-size="11" text-anchor="end" fill="#6b7385">' + esc(time(last + step)) + ' (' + (step >= 1000 ? (step / 1000) + ' s' : step + ' ms') + ' per bar)</text>';
    svg += '</svg>';
    var legend = '<div class="legend">' + VERDICTS.map(function (v) { return '<span><i style="background:' + color(v) + '"></i>' + esc(LABEL[v]) + '</span>'; }).join('') + '</div>';
    $('#chart').innerHTML = svg + legend;
  })();

  // Signatures.
  function statusBadge(s) { return '<span class="badge status-' + s + '">' + s + '</span>'; }
  function exampleButtons(s) {
    return s.examples.map(function (cid) { return '<button class="example" data-reconciler="' + esc(s.reconciler) + '" data-cid="' + esc(cid) + '">' + esc(cid) + '</button>'; }).join('');
  }
  function signatureRow(s) {
    var who = s.accepted ? '<div class="small muted">accepted by ' + esc(s.accepted.acceptedBy) + ': ' + esc(s.accepted.reason) + '</div>' : '';
    return '<tr class="signature-row" data-status="' + s.status + '"><td>' + statusBadge(s.status) + '</td><td>' + esc(s.reconciler) + '</td><td><code>' + esc(s.path) + '</code>' + who + '</td><td>' + esc(s.kind) +
      '</td><td><code>' + esc(s.rule) + '</code></td><td class="num">' + fmt(s.pairs) + '</td><td class="num">' + fmt(s.occurrences) + '</td><td>' + exampleButtons(s) + '</td></tr>';
  }
  $('#sig-count').textContent = String(data.signatures.length);
  function renderSignatures() {
    var f = $('#sig-filter').value;
    var rows = data.signatures.filter(function (s) { return f === 'all' || s.status === f; });
    $('#signature-table tbody').innerHTML = rows.length ? rows.map(signatureRow).join('') : '<tr><td colspan="8" class="muted">No ' + (f === 'all' ? '' : f + ' ') + 'signatures.</td></tr>';
    $('#sig-summary').textContent = data.signatureCounts['new'] + ' new, ' + data.signatureCounts.accepted + ' accepted, ' + data.signatureCounts.noise + ' noise';
  }
  if (!data.signatureCounts['new']) $('#sig-filter').value = 'all';
  $('#sig-filter').addEventListener('change', renderSignatures);
  renderSignatures();
  var top = data.signatures.slice(0, 8);
  $('#top-signatures').innerHTML = top.length ? '<table class="grid"><thead><tr><th>Status</th><th>Reconciler</th><th>Path</th><th>Kind</th><th>Rule</th><th class="num">Pairs</th><th class="num">Diffs</th><th>Examples</th></tr></thead><tbody>' + top.map(signatureRow).join('') + '</tbody></table>' : '<p class="muted">No differences: every judged pair matches.</p>';

  // Drill-down.
  var selected = null;
  var verdictSelect = $('#pair-verdict');
  VERDICTS.forEach(function (v) { if (bv[v]) verdictSelect.insertAdjacentHTML('beforeend', '<option value="' + v + '">' + esc(LABEL[v]) + '</option>'); });
  $('#pair-count').textContent = String(data.pairs.length);
  if (data.pairsOmitted > 0) $('#pair-omitted').textContent = fmt(data.pairsOmitted) + ' more disagreeing pairs are in the run (query them through the API or report.json with a larger --max-pairs).';
  function key(p) { return p.reconciler + '/' + p.correlationId; }
  function renderList() {
    var q = $('#pair-search').value.trim().toLowerCase(), v = verdictSelect.value;
    var items = data.pairs.filter(function (p) {
      if (v && p.verdict !== v) return false;
      if (!q) return true;
      return p.correlationId.toLowerCase().indexOf(q) >= 0 || p.signatures.some(function (s) { return s.signature.toLowerCase().indexOf(q) >= 0; });
    });
    $('#pair-list').innerHTML = items.map(function (p) {
      return '<li class="pair-item' + (selected === key(p) ? ' selected' : '') + '" data-key="' + esc(key(p)) + '"><span><span class="cid">' + esc(p.correlationId) + '</span><br><span class="rec">' + esc(p.reconciler) + '</span></span>' + badge(p.verdict) + '</li>';
    }).join('') || '<li class="muted">Nothing to show.</li>';
  }
  $('#pair-search').addEventListener('input', renderList);
  verdictSelect.addEventListener('change', renderList);
  $('#pair-list').addEventListener('click', function (e) {
    var li = e.target.closest('li[data-key]'); if (li) openPair(li.getAttribute('data-key'));
  });

  var IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function fmtPath(segs) {
    if (!segs.length) return '$';
    var out = '';
    segs.forEach(function (s) {
      if (typeof s === 'number') out += '[' + s + ']';
      else if (IDENT.test(s)) out += (out === '' ? s : '.' + s);
      else out += '[' + JSON.stringify(s) + ']';
    });
    return out;
  }
  function tree(v, segs, marks) {
    var at = fmtPath(segs), mark = marks[at], cls = mark ? ' hl hl-' + mark : '';
    var attrs = ' data-at="' + esc(at) + '"' + (mark ? ' data-mark="' + mark + '"' : '');
    if (v === null || typeof v !== 'object') return '<span class="jv' + cls + '"' + attrs + '>' + esc(JSON.stringify(v)) + '</span>';
    var arr = Array.isArray(v), keys = arr ? v.map(function (_, i) { return i; }) : Object.keys(v);
    var open = arr ? '[' : '{', close = arr ? ']' : '}';
    if (!keys.length) return '<span class="jv' + cls + '"' + attrs + '>' + open + close + '</span>';
    var html = '<span class="jo' + cls + '"' + attrs + '>' + open + '<div class="jc">';
    keys.forEach(function (k, i) {
      html += '<div class="jl">' + (arr ? '' : '<span class="jk">' + esc(JSON.stringify(k)) + '</span>: ') + tree(v[k], segs.concat([k]), marks) + (i < keys.length - 1 ? ',' : '') + '</div>';
    });
    return html + '</div>' + close + '</span>';
  }
  function short(v) { return v === undefined ? '<span class="muted">—</span>' : '<code>' + esc(JSON.stringify(v)) + '</code>'; }
  function openPair(k) {
    var p = data.pairs.filter(function (x) { return key(x) === k; })[0];
    if (!p) return;
    selected = k;
    show('pairs');
    history.replaceState(null, '', '#pair=' + encodeURIComponent(k));
    renderList();
    var prodMarks = {}, uatMarks = {};
    p.differences.forEach(function (d) { if (d.prodAt) prodMarks[d.prodAt] = d.kind; if (d.uatAt) uatMarks[d.uatAt] = d.kind; });
    var statusOf = {}; p.signatures.forEach(function (s) { statusOf[s.signature] = s.status; });
    var html = '<h2 id="detail-cid">' + esc(p.correlationId) + '</h2>';
    html += '<div class="meta">' + badge(p.verdict) + ' &nbsp;' + esc(p.reconciler) + ' v' + esc(p.reconcilerVersion || '?') + ' · decided ' + esc(time(p.decidedAt)) + (p.late ? ' · arrived late' : '') + '</div>';
    html += '<table class="grid" id="difference-table"><thead><tr><th>Path</th><th>Kind</th><th>Rule</th><th>Signature</th><th>' + esc(data.run.prod.label) + '</th><th>' + esc(data.run.uat.label) + '</th></tr></thead><tbody>';
    html += p.differences.map(function (d, i) {
      return '<tr class="diff-row" data-i="' + i + '"><td><code>' + esc(d.path) + '</code></td><td>' + esc(d.kind) + '</td><td><code>' + esc(d.rule) + '</code></td><td>' + statusBadge(statusOf[d.signature] || 'new') +
        '</td><td class="value">' + short(d.prod) + '</td><td class="value">' + short(d.uat) + '</td></tr>';
    }).join('') + '</tbody></table>';
    html += '<div class="sides"><div class="side" id="side-prod"><h3>' + esc(data.run.prod.label) + '</h3>' + (p.prod === undefined ? '<div class="absent">No output.</div>' : '<div class="json">' + tree(p.prod, [], prodMarks) + '</div>') + '</div>';
    html += '<div class="side" id="side-uat"><h3>' + esc(data.run.uat.label) + '</h3>' + (p.uat === undefined ? '<div class="absent">No output.</div>' : '<div class="json">' + tree(p.uat, [], uatMarks) + '</div>') + '</div></div>';
    html += '<h3 class="small">Verdict history</h3><ol class="history">' + p.history.map(function (h) { return '<li>' + esc(h.verdict) + ' by v' + esc(h.reconcilerVersion) + ' (' + esc(h.cause) + ', revision ' + h.revision + ') at ' + esc(time(h.decidedAt)) + '</li>'; }).join('') + '</ol>';
    $('#pair-detail').innerHTML = html;
    // Bring the first highlighted value of each side into its panel's view (not the page's).
    ['#side-prod', '#side-uat'].forEach(function (id) {
      var side = $(id), first = side && $('.hl', side);
      if (first) side.scrollTop = Math.max(0, first.getBoundingClientRect().top - side.getBoundingClientRect().top - 60);
    });
    $$('#difference-table tr.diff-row').forEach(function (row) {
      row.addEventListener('click', function () {
        var d = p.differences[Number(row.getAttribute('data-i'))];
        [['#side-prod', d.prodAt], ['#side-uat', d.uatAt]].forEach(function (pair) {
          if (!pair[1]) return;
          var el = $(pair[0] + ' [data-at="' + CSS.escape(pair[1]) + '"]');
          if (el) { el.classList.add('flash'); el.scrollIntoView({ block: 'center' }); setTimeout(function () { el.classList.remove('flash'); }, 1200); }
        });
      });
    });
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest('.example'); if (b) openPair(b.getAttribute('data-reconciler') + '/' + b.getAttribute('data-cid'));
  });
  renderList();

  // Checksums.
  $('#checksum-body').innerHTML = data.checksums.length ? '<table class="grid"><thead><tr><th>Reconciler</th><th class="num">Partitions agreeing</th><th class="num">IDs in ' + esc(data.run.prod.label) + '</th><th class="num">IDs in ' + esc(data.run.uat.label) + '</th><th>Partitions that differ</th></tr></thead><tbody>' +
    data.checksums.map(function (c) {
      return '<tr><td>' + esc(c.reconciler) + '</td><td class="num">' + c.matching + ' / ' + c.partitions + '</td><td class="num">' + fmt(c.prodIds) + '</td><td class="num">' + fmt(c.uatIds) + '</td><td class="small mono">' +
        (c.mismatching.length ? c.mismatching.slice(0, 20).map(function (m) { return '#' + m.partition + ' ' + esc(m.prod) + ' ≠ ' + esc(m.uat); }).join('<br>') + (c.mismatching.length > 20 ? '<br>…' : '') : '<span class="muted">none</span>') + '</td></tr>';
    }).join('') + '</tbody></table>' : '<p class="muted">No correlation IDs seen yet.</p>';

  // Run.
  var r = data.run;
  $('#run-body').innerHTML = '<table class="grid"><tbody>' +
    [['Run', r.id], ['Directory', r.dir], ['Created', r.createdAt], [r.prod.label, r.prod.source], [r.uat.label, r.uat.source], ['Partitions / shards', r.partitions + ' / ' + r.shards],
     ['Reconcilers', r.reconcilers.map(function (x) { return x.name + ' v' + x.version; }).join(', ')], ['Known differences', data.ledger.accepted + (data.ledger.path ? ' in ' + data.ledger.path : '')],
     ['Noise signatures', data.noise.learned + (data.noise.baselineDir ? ' from ' + data.noise.baselineDir : '')]]
      .map(function (x) { return '<tr><th style="width:200px">' + esc(x[0]) + '</th><td>' + esc(x[1]) + '</td></tr>'; }).join('') + '</tbody></table>' +
    '<h2 style="margin-top:16px">Invocations</h2><table class="grid"><thead><tr><th>#</th><th>Mode</th><th>Started</th><th>Ended</th><th>Status</th><th>' + esc(r.prod.label) + ' range</th><th>' + esc(r.uat.label) + ' range</th><th class="num">Judged</th></tr></thead><tbody>' +
    r.invocations.map(function (i) { return '<tr><td>' + i.id + '</td><td>' + i.mode + '</td><td>' + esc(i.startedAt) + '</td><td>' + esc(i.endedAt || '') + '</td><td>' + i.status + '</td><td>' + i.prodFrom + '…' + (i.prodTo == null ? '' : i.prodTo) + '</td><td>' + i.uatFrom + '…' + (i.uatTo == null ? '' : i.uatTo) + '</td><td class="num">' + fmt(i.judged) + '</td></tr>'; }).join('') + '</tbody></table>';

  // Deep links: #signatures, #pair=reconciler/cid.
  var h = decodeURIComponent(location.hash.slice(1));
  if (h.indexOf('pair=') === 0) openPair(h.slice(5));
  else if (['summary', 'signatures', 'pairs', 'checksums', 'run'].indexOf(h) >= 0) show(h);
})();
`;

/**
 * The Content-Security-Policy the page is served with: nothing from the network,
 * and of inline scripts only its own (by hash); the data block is JSON, never run.
 */
export const REPORT_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(CLIENT_JS).digest('base64')}'`,
  "style-src 'unsafe-inline'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
