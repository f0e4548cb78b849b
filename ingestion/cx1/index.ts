// Public surface of the CX1 feed reader: lines -> per-line parsing -> per-file
// classification, plus the inverse builders.
export {
  DEFAULT_CHUNK_SIZE,
  LineSplitter,
  MAX_LINE_LENGTH,
  isBlankLine,
  linesOfText,
  readLineBatches,
  readLineBatchesSync,
  readLines,
  type Line,
  type ReadOptions,
} from './lines.js';
export {
  ALC_FIELDS,
  CNF_FIELDS,
  CXL_FIELDS,
  DETAIL_FIELDS,
  DETAIL_RECORD_TYPES,
  HDR_FIELDS,
  RECORD_LENGTH,
  RECORD_TYPE,
  TRADE_FIELDS,
  TRL_FIELDS,
  columnsLabel,
  controlQuantityOf,
  isDetailRecordType,
  parseDetail,
  parseHeader,
  parseTrailer,
  quantityFieldOf,
  tradeRefOf,
  type Field,
  type ParsedDetail,
  type Result,
} from './parse.js';
export {
  Cx1FileClassifier,
  classifyLines,
  type AcceptedLine,
  type FileSummary,
  type LineOutcome,
  type RejectedLine,
  type RejectionCode,
  type TrailerStatus,
} from './file.js';
export { controlQuantityOfRecord, formatDetail, formatHeader, formatTrailer, overwriteColumns } from './format.js';
