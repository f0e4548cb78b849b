import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isBlankLine, LineSplitter, linesOfText, readLineBatches, readLineBatchesSync, readLines, type Line, type ReadOptions } from './lines.js';

const dir = mkdtempSync(join(tmpdir(), 'cx1-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function fileWith(content: string | Buffer): string {
  const path = join(dir, `f${++files}.cx1`);
  writeFileSync(path, typeof content === 'string' ? Buffer.from(content, 'latin1') : content);
  return path;
}

async function read(content: string | Buffer, options: ReadOptions = {}): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const line of readLines(fileWith(content), options)) lines.push(line);
  return lines;
}

const texts = (lines: Line[]): string[] => lines.map((l) => l.text);

describe('readLines', () => {
  it('splits on \\n and numbers lines from 1', async () => {
    expect(await read('a\nb\nc\n')).toEqual([
      { lineNo: 1, text: 'a' },
      { lineNo: 2, text: 'b' },
      { lineNo: 3, text: 'c' },
    ]);
  });

  it('strips one \\r before \\n', async () => {
    expect(texts(await read('a\r\nb\r\nc\r\n'))).toEqual(['a', 'b', 'c']);
    expect(texts(await read('a\r\r\nb\n'))).toEqual(['a\r', 'b']);
  });

  it('reads a last line without a terminator', async () => {
    expect(texts(await read('a\r\nb'))).toEqual(['a', 'b']);
  });

  it('keeps a CR that no LF follows: only \n and \r\n end a line', async () => {
    expect(texts(await read('a\nb\r'))).toEqual(['a', 'b\r']);
    expect(texts(await read(`a\n${'x'.repeat(20)}\r`, { chunkSize: 7 }))).toEqual(['a', `${'x'.repeat(20)}\r`]);
  });

  it('ignores trailing blank lines, whatever their whitespace', async () => {
    expect(await read('a\n\n\n')).toEqual([{ lineNo: 1, text: 'a' }]);
    expect(texts(await read('a\r\n\r\n  \r\n\t\r\n'))).toEqual(['a']);
    expect(texts(await read('a\n   '))).toEqual(['a']);
  });

  it('yields a blank line followed by a non-blank one, with its physical line number', async () => {
    expect(await read('a\n\n  \nb\n\n')).toEqual([
      { lineNo: 1, text: 'a' },
      { lineNo: 2, text: '' },
      { lineNo: 3, text: '  ' },
      { lineNo: 4, text: 'b' },
    ]);
  });

  it('yields leading blank lines (they are followed by something)', async () => {
    expect(await read('\nHDR\n')).toEqual([
      { lineNo: 1, text: '' },
      { lineNo: 2, text: 'HDR' },
    ]);
  });

  it('reads nothing from an empty or all-blank file', async () => {
    expect(await read('')).toEqual([]);
    expect(await read('\n\r\n   \n')).toEqual([]);
  });

  it('keeps one character per byte, so non-ASCII bytes stay visible', async () => {
    const [line] = await read(Buffer.from([0x41, 0xe9, 0x42, 0x0a]));
    expect(line!.text).toHaveLength(3);
    expect(line!.text.charCodeAt(1)).toBe(0xe9);
    // UTF-8 "é" is two bytes: two characters.
    const [utf8] = await read(Buffer.from('AéB\n', 'utf8'));
    expect(utf8!.text).toHaveLength(4);
  });

  it('does not treat a non-ASCII space as blank', async () => {
    expect(texts(await read(Buffer.from([0x61, 0x0a, 0xa0, 0x0a])))).toEqual(['a', '\u00a0']);
  });

  it('gives the same lines whatever the chunk boundaries', async () => {
    const content = 'HDR one\r\n\r\nTRD two\r\n  \r\nTRD three\nlast\r\n\r\n \n';
    const expected = linesOfText(content);
    expect(texts(expected)).toEqual(['HDR one', '', 'TRD two', '  ', 'TRD three', 'last']);
    for (let chunkSize = 1; chunkSize <= content.length + 1; chunkSize++) {
      expect(await read(content, { chunkSize })).toEqual(expected);
    }
  });

  it('truncates an overlong line, reporting its real length', async () => {
    const lines = await read(`short\n${'x'.repeat(25)}\r\nnext`, { maxLineLength: 10, chunkSize: 4 });
    expect(lines).toEqual([
      { lineNo: 1, text: 'short' },
      { lineNo: 2, text: 'x'.repeat(10), truncatedLength: 25 },
      { lineNo: 3, text: 'next' },
    ]);
  });

  it('does not count the CR towards the cap', async () => {
    for (const chunkSize of [3, 5, 11, 100]) {
      expect(await read(`${'y'.repeat(10)}\r\nz\n`, { maxLineLength: 10, chunkSize })).toEqual([
        { lineNo: 1, text: 'y'.repeat(10) },
        { lineNo: 2, text: 'z' },
      ]);
    }
  });

  it('reads a large file in batches with flat line numbers', async () => {
    const line = 'T'.repeat(128);
    const count = 50_000;
    const path = fileWith(`${line}\r\n`.repeat(count));
    let seen = 0;
    let batches = 0;
    for await (const batch of readLineBatches(path, { chunkSize: 64 * 1024 })) {
      batches++;
      for (const l of batch) {
        if (l.text !== line || l.lineNo !== ++seen) throw new Error(`bad line ${l.lineNo}`);
      }
    }
    expect(seen).toBe(count);
    expect(batches).toBeGreaterThan(1);
  });
});

describe('readLineBatchesSync', () => {
  async function batchesOf(path: string, options: ReadOptions): Promise<Line[][]> {
    const batches: Line[][] = [];
    for await (const batch of readLineBatches(path, options)) batches.push(batch);
    return batches;
  }

  it('gives the batches readLineBatches gives, for any chunk size, with files read in turn through its one buffer', async () => {
    const first = fileWith('HDR one\r\n\r\nTRD two\r\n  \r\nTRD three\nlast\r\n\r\n \n');
    const second = fileWith(`${'x'.repeat(25)}\r\nshort\ré\n\n\nend`);
    for (let chunkSize = 1; chunkSize <= 60; chunkSize++) {
      for (const path of [first, second, first]) {
        const options = { chunkSize, maxLineLength: 10 };
        expect([...readLineBatchesSync(path, options)]).toEqual(await batchesOf(path, options));
      }
    }
  });

  it('lets two files be read at once, one batch of each in turn', async () => {
    const a = fileWith(Array.from({ length: 200 }, (_, i) => `A${i}`).join('\n'));
    const b = fileWith(Array.from({ length: 200 }, (_, i) => `B${i}`).join('\r\n'));
    const readA = readLineBatchesSync(a, { chunkSize: 64 });
    const readB = readLineBatchesSync(b, { chunkSize: 64 });
    const linesA: Line[] = [];
    const linesB: Line[] = [];
    for (;;) {
      const nextA = readA.next();
      const nextB = readB.next();
      if (!nextA.done) linesA.push(...nextA.value);
      if (!nextB.done) linesB.push(...nextB.value);
      if (nextA.done && nextB.done) break;
    }
    expect(linesA).toEqual((await batchesOf(a, {})).flat());
    expect(linesB).toEqual((await batchesOf(b, {})).flat());
  });

  it('fails as the reads through the pool fail, for a file that is not there', async () => {
    const missing = join(dir, 'missing.cx1');
    expect(() => [...readLineBatchesSync(missing)]).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open' }));
  });
});

describe('LineSplitter', () => {
  it('holds back a run of blank lines until a non-blank line arrives', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('a\n\n\n')).toEqual([{ lineNo: 1, text: 'a' }]);
    expect(splitter.push('b\n')).toEqual([
      { lineNo: 2, text: '' },
      { lineNo: 3, text: '' },
      { lineNo: 4, text: 'b' },
    ]);
    expect(splitter.push('\n')).toEqual([]);
    expect(splitter.end()).toEqual([]);
  });
});

describe('LineSplitter.pushBytes', () => {
  it('gives the lines push gives for the same bytes decoded as latin1, however the bytes are cut', () => {
    const bytes = fc.uint8Array({ maxLength: 120 }).map((random) => Buffer.from(random.map((b) => [0x0a, 0x0d, 0x20, 0x41, 0xe9, b][b % 6]!)));
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(40), { maxLength: 6 }), fc.integer({ min: 1, max: 12 }), (content, cuts, maxLength) => {
        const byBytes = new LineSplitter(maxLength);
        const byText = new LineSplitter(maxLength);
        const fromBytes: Line[] = [];
        const fromText: Line[] = [];
        let start = 0;
        for (const cut of [...cuts, content.length]) {
          const end = Math.min(content.length, start + cut);
          fromBytes.push(...byBytes.pushBytes(content.subarray(start, end)));
          fromText.push(...byText.push(content.toString('latin1', start, end)));
          start = end;
        }
        fromBytes.push(...byBytes.end());
        fromText.push(...byText.end());
        expect(fromBytes).toEqual(fromText);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('linesOfText', () => {
  it('follows the same rules as files', () => {
    expect(linesOfText('x\r\n\r\ny')).toEqual([
      { lineNo: 1, text: 'x' },
      { lineNo: 2, text: '' },
      { lineNo: 3, text: 'y' },
    ]);
    expect(linesOfText('single message')).toEqual([{ lineNo: 1, text: 'single message' }]);
  });
});

describe('isBlankLine', () => {
  it('is true for empty and ASCII-whitespace-only text', () => {
    expect(isBlankLine('')).toBe(true);
    expect(isBlankLine(' \t\r\f\v')).toBe(true);
    expect(isBlankLine(' x ')).toBe(false);
    expect(isBlankLine('\u0000')).toBe(false);
    expect(isBlankLine('\u00a0')).toBe(false);
  });
});
