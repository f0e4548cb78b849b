// JUnit XML for CI dashboards: one test case per signature (failing when the
// gate counts it) and one per reconciler's verdicts and checksums.
import { AGREEING, VERDICTS } from '../verdict.js';
import type { ReportModel, ReportSignature } from './model.js';

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');

interface Case {
  classname: string;
  name: string;
  failure?: { message: string; body: string };
  skipped?: string;
  out?: string;
}

function signatureCounts(s: ReportSignature, model: ReportModel): Case {
  const body = `${s.pairs} pair(s), ${s.occurrences} difference(s); examples: ${s.examples.join(', ')}`;
  const c: Case = { classname: `regression.signatures.${s.reconciler}`, name: s.signature, out: body };
  const counts = model.gate.failOn === 'any' || (model.gate.failOn === 'new' && s.status === 'new');
  if (counts) c.failure = { message: `${s.status} signature: ${s.pairs} pair(s)`, body };
  else if (s.status === 'accepted') c.skipped = `accepted by ${s.accepted?.acceptedBy ?? '?'}: ${s.accepted?.reason ?? ''}`;
  else if (s.status === 'noise') c.skipped = 'noise: also differs between PROD and its baseline';
  else c.skipped = `not gated (--fail-on ${model.gate.failOn})`;
  return c;
}

export function renderJunit(model: ReportModel): string {
  const suites: Array<{ name: string; cases: Case[] }> = [];
  suites.push({ name: 'regression.signatures', cases: model.signatures.map((s) => signatureCounts(s, model)) });
  const disagreeing = VERDICTS.filter((v) => v !== 'PENDING' && !AGREEING.has(v));
  suites.push({
    name: 'regression.verdicts',
    cases: model.byReconciler.map((r) => {
      const bad = disagreeing.reduce((n, v) => n + r.byVerdict[v], 0);
      const counts = VERDICTS.filter((v) => r.byVerdict[v] > 0).map((v) => `${v} ${r.byVerdict[v]}`).join(', ');
      const c: Case = { classname: 'regression.verdicts', name: `${r.reconciler} v${r.version ?? '?'}: ${r.pairs} pairs`, out: counts };
      const newInReconciler = model.signatures.filter((s) => s.reconciler === r.reconciler && s.status === 'new').length;
      if (model.gate.failOn === 'any' && bad > 0) c.failure = { message: `${bad} pair(s) disagree`, body: counts };
      else if (model.gate.failOn === 'new' && newInReconciler > 0) c.failure = { message: `${newInReconciler} new signature(s)`, body: counts };
      return c;
    }),
  });
  suites.push({
    name: 'regression.checksums',
    cases: model.checksums.map((c) => {
      const out = `${c.matching}/${c.partitions} partitions hold the same correlation IDs (PROD ${c.prodIds}, UAT ${c.uatIds})`;
      const testCase: Case = { classname: 'regression.checksums', name: c.reconciler, out };
      if (c.mismatching.length > 0 && model.gate.failOn === 'any') {
        testCase.failure = { message: `${c.mismatching.length} partition(s) differ`, body: c.mismatching.map((m) => `partition ${m.partition}: ${m.prod} vs ${m.uat}`).join('\n') };
      }
      return testCase;
    }),
  });

  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = suites.flatMap((s) => s.cases);
  lines.push(
    `<testsuites name="${escapeXml(model.title)}" tests="${all.length}" failures="${all.filter((c) => c.failure).length}" skipped="${all.filter((c) => c.skipped).length}" timestamp="${model.generatedAt}">`,
  );
  for (const suite of suites) {
    lines.push(
      `  <testsuite name="${suite.name}" tests="${suite.cases.length}" failures="${suite.cases.filter((c) => c.failure).length}" skipped="${suite.cases.filter((c) => c.skipped).length}" errors="0">`,
    );
    for (const c of suite.cases) {
      lines.push(`    <testcase classname="${escapeXml(c.classname)}" name="${escapeXml(c.name)}">`);
      if (c.failure) lines.push(`      <failure message="${escapeXml(c.failure.message)}">${escapeXml(c.failure.body)}</failure>`);
      if (c.skipped) lines.push(`      <skipped message="${escapeXml(c.skipped)}"/>`);
      if (c.out) lines.push(`      <system-out>${escapeXml(c.out)}</system-out>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
