// node callgrind-js.mjs CALLGRIND_FILE PERF_MAP N [TOP]: per JS function, self + inclusive cost of calls to non-JIT callees that are not calls back into JS
import { readFileSync } from 'node:fs';
const [file, mapFile, n, top = '70'] = process.argv.slice(2);
const ranges = readFileSync(mapFile, 'utf8').split('\n').filter(Boolean).map((l) => { const [a, s, ...name] = l.split(' '); return [parseInt(a, 16), parseInt(s, 16), name.join(' ')]; }).sort((x, y) => x[0] - y[0]);
function jsName(addr) { let lo = 0, hi = ranges.length - 1, best = -1; while (lo <= hi) { const m = (lo + hi) >> 1; if (ranges[m][0] <= addr) { best = m; lo = m + 1; } else hi = m - 1; } return best >= 0 && addr < ranges[best][0] + ranges[best][1] ? ranges[best][2] : null; }
const names = new Map(); const nameOf = (tok) => { const m = /^\((\d+)\)(?: (.*))?$/.exec(tok); if (!m) return tok; if (m[2] !== undefined) names.set(m[1], m[2]); return names.get(m[1]); };
const isJit = (x) => /^0x[0-9a-f]+$/.test(x);
// callees that run JS inside them: their inclusive cost is not the caller's own
const reentrant = /Call|JSEntry|Invoke|Execution|Trampoline|Microtask|Promise|Await|Resolve|Reject|Construct|Apply|Reflect|ArrayForEach|ArrayMap|ArrayFilter|ArraySome|ArrayEvery|ArrayReduce|ArrayFind|Interpreter|Baseline|Generator|AsyncFunction|AsyncModule|Function::Call|MakeCallback|Emit|Json.*Stringify|JsonStringifier|Runtime_ThrowError|StackGuard|HandleInterrupts|Compile|Deoptimiz|Notify|OnStackReplacement|TypedArrayPrototype|CEntry/;
const lines = readFileSync(file, 'utf8').split('\n');
let fn = null, cfn = null, inCall = false;
const own = new Map(); let total = 0;
const labelOf = (f) => (isJit(f) ? jsName(parseInt(f, 16)) ?? 'jit?' : null);
for (const line of lines) {
  if (line.startsWith('fn=')) { fn = nameOf(line.slice(3)); continue; }
  if (line.startsWith('cfn=')) { cfn = nameOf(line.slice(4)); continue; }
  if (line.startsWith('calls=')) { inCall = true; continue; }
  if (/^(\+|-|\*)?[0-9]/.test(line)) {
    const cost = Number(line.trim().split(/\s+/)[1] ?? 0);
    if (inCall) { inCall = false; const l = labelOf(fn); if (l && !isJit(cfn) && !reentrant.test(cfn)) own.set(l, (own.get(l) ?? 0) + cost); continue; }
    total += cost; const l = labelOf(fn); if (l) own.set(l, (own.get(l) ?? 0) + cost);
  }
}
const N = +n; let s = 0; for (const v of own.values()) s += v;
console.log('total', Math.round(total / N), 'attributed to JS fns', Math.round(s / N));
const g = (x) => x.replace(/^(JS|LazyCompile|Function):?[*~^+]?/, '').replace(/file:\/\/\/[^ ]*node_modules\//, '').replace(/\/tmp\/base-commands\/node_modules\//, '').replace(/file:\/\/\/[^ ]*dist\//, 'dist/').replace(/\/[^ ]*\/dist\//, 'dist/');
for (const [k, v] of [...own].sort((a, b) => b[1] - a[1]).slice(0, +top)) console.log(String(Math.round(v / N)).padStart(7), g(k).slice(0, 140));
