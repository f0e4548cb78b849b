# python3 count-projection-writes.py BUILD: patches BUILD's dist/projections/runner.js (not the source) so that, with
# HOLDSET_COUNT=1, each projection's document writes and flushes are printed to stderr every 500 ms (serve-catchup-writes.mjs), and
# (since the fifteenth session) the documents it read from the read store (getMany's keys): [writes, flushes, reads].
import sys
p=sys.argv[1]+'/dist/projections/runner.js'
s=open(p).read()
if '__holdsetCount' in s: sys.exit(0)
anchor='await this.reads.write(writes, [{ name: this.checkpointName, position: scannedTo }]);'
assert s.count(anchor)==1
s=s.replace(anchor, anchor+' __holdsetCount(this.projection.name, writes.length);')
read='const stored = await this.reads.getMany(this.collection, missing);'
if s.count(read)==1: s=s.replace(read, read+' __holdsetRead(this.projection.name, missing.length);')
s+='''
const __hc = new Map(); let __ht = null;
function __holdsetCount(name, n) {
  if (!process.env.HOLDSET_COUNT) return;
  const c = __hc.get(name) ?? [0, 0]; c[0] += n; c[1]++; __hc.set(name, c);
  if (__ht === null) { __ht = setInterval(() => process.stderr.write('HOLDSET ' + JSON.stringify([...__hc]) + '\\n'), 500); __ht.unref(); }
}
'''
s+='''
function __holdsetRead(name, n) { const c = __hc.get(name) ?? [0, 0]; c[2] = (c[2] ?? 0) + n; __hc.set(name, c); }
'''
open(p,'w').write(s)
