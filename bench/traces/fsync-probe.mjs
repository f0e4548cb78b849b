// node fsync-probe.mjs DIR N SIZE: p50/p99 of (pwrite SIZE bytes at the file's end + fdatasync), the WAL's pattern
import { openSync, writeSync, fdatasyncSync, closeSync, rmSync } from 'node:fs';
const [dir, n = '2000', size = '8192'] = process.argv.slice(2);
const file = `${dir}/fsync-probe-${process.pid}`;
const fd = openSync(file, 'w');
const buf = Buffer.alloc(+size, 7);
const t = [];
for (let i = 0; i < +n; i++) {
  const a = process.hrtime.bigint();
  writeSync(fd, buf, 0, buf.length, i * buf.length);
  fdatasyncSync(fd);
  t.push(Number(process.hrtime.bigint() - a) / 1e6);
}
closeSync(fd); rmSync(file);
t.sort((a, b) => a - b);
const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(3);
console.log(JSON.stringify({ dir, n: +n, size: +size, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: t.at(-1).toFixed(3), mean: (t.reduce((s, x) => s + x, 0) / t.length).toFixed(3) }));
