// One CX1 file as batches of prepared intake: read, classified line by line,
// turned into appends with their events already encoded. Pure of the store, so
// it runs as well on a thread of its own (intake-thread.ts) as inline.
import { Cx1FileClassifier, readLineBatches, type FileSummary, type LineOutcome } from './cx1/index.js';
import { prepareIntake, type IntakeItem, type PreparedIntake } from './record-writer.js';

export interface IntakeBatch {
  items: PreparedIntake[];
  /** Lines of the file read so far, this batch's included. */
  linesRead: number;
}

/** Batches of `batchSize` items (the last may be shorter); the file's summary when done. */
export async function* fileIntake(path: string, file: string, batchSize: number): AsyncGenerator<IntakeBatch, FileSummary> {
  const classifier = new Cx1FileClassifier();
  let items: PreparedIntake[] = [];
  let linesRead = 0;
  for await (const lines of readLineBatches(path)) {
    for (const line of lines) {
      linesRead += 1;
      const outcome = classifier.classify(line);
      if (!outcome) continue;
      items.push(prepareIntake(toIntakeItem(outcome, classifier.header?.source ?? null, file)));
      if (items.length === batchSize) {
        yield { items, linesRead };
        items = [];
      }
    }
  }
  if (items.length > 0) yield { items, linesRead };
  return classifier.finish();
}

function toIntakeItem(outcome: LineOutcome, source: IntakeItem['source'], file: string): IntakeItem {
  if (outcome.kind === 'rejected') {
    return { kind: 'rejection', source, file, line: outcome.lineNo, raw: outcome.raw, code: outcome.code, detail: outcome.detail, tradeRef: outcome.tradeRef };
  }
  return {
    kind: 'record',
    source: source!,
    file,
    line: outcome.lineNo,
    raw: outcome.raw,
    sourceSequence: outcome.sourceSequence,
    record: outcome.record,
  };
}
