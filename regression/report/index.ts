// Reports of a run: the model, and its three renderings.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import type { ReportModel } from './model.js';

export { buildReport, evaluateGate, FAIL_ON, type FailOn, type ReportModel, type ReportOptions, type ReportPair, type ReportSignature, type ChecksumSummary } from './model.js';
export { renderHtml, REPORT_CSP } from './html.js';
export { renderJunit } from './junit.js';

export interface WrittenReports {
  html: string;
  json: string;
  junit: string;
}

/** Writes report.html, report.json and junit.xml into `dir` (each atomically). */
export function writeReports(dir: string, model: ReportModel): WrittenReports {
  mkdirSync(dir, { recursive: true });
  const files = { html: join(dir, 'report.html'), json: join(dir, 'report.json'), junit: join(dir, 'junit.xml') };
  const write = (path: string, text: string) => {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  };
  write(files.html, renderHtml(model));
  write(files.json, `${JSON.stringify(model, null, 2)}\n`);
  write(files.junit, renderJunit(model));
  return files;
}
