export { FileIngestor, INGEST_BATCH_SIZE, type FileIngestionSummary, type FileIngestorOptions } from './ingest-file.js';
export { UnreadableFileError } from './file-intake.js';
export { RecordWriter, intakeAppend, rejectionStream, exceptionEvent, type IntakeItem, type IntakeOutcome } from './record-writer.js';
export * as Cx1 from './cx1/index.js';
