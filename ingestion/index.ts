export { FileIngestor, UnreadableFileError, type FileIngestionSummary, type FileIngestorOptions } from './ingest-file.js';
export { RecordWriter, rejectionStream, exceptionEvent, type IntakeItem, type IntakeOutcome } from './record-writer.js';
export * as Cx1 from './cx1/index.js';
