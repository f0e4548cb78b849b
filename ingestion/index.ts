export { FileIngestor, type FileIngestionSummary, type FileIngestorOptions } from './ingest-file.js';
export { INGEST_BATCH_SIZE, StartedIntake, startIntake } from './start-intake.js';
export { UnreadableFileError, UnreadableFilesError } from './unreadable-file.js';
export { RecordWriter, intakeAppend, rejectionStream, exceptionEvent, type IntakeItem, type IntakeOutcome } from './record-writer.js';
export * as Cx1 from './cx1/index.js';
