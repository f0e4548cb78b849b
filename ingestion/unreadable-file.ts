// The files of a run as the intake names them, and how one that cannot be read
// is told. Apart from the parsing (file-intake.ts), so that what starts a run
// (start-intake.ts) loads none of it.

export interface IntakeFile {
  path: string;
  /** The file name (not its directory): what identifies the file. */
  name: string;
}

/** A file of the run that could not be read; what was read of it before stays ingested. */
export class UnreadableFileError extends Error {
  /** What went wrong, without the path. */
  readonly reason: string;
  constructor(
    readonly path: string,
    cause: unknown,
    reason: string = cause instanceof Error ? cause.message : String(cause),
  ) {
    super(`cannot read ${path}: ${reason}`, { cause });
    this.name = 'UnreadableFileError';
    this.reason = reason;
  }
}

/**
 * Every file of a run found unreadable before anything was read, in the run's order (the error's
 * own path and reason are the first's): nothing of the run was ingested.
 */
export class UnreadableFilesError extends UnreadableFileError {
  constructor(readonly unreadable: readonly [UnreadableFileError, ...UnreadableFileError[]]) {
    const [first] = unreadable;
    super(first.path, first.cause, first.reason);
    this.name = 'UnreadableFilesError';
    if (unreadable.length > 1) this.message += ` (and ${unreadable.length - 1} more)`;
  }
}
