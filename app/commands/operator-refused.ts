// Apart from operations.ts, which loads the stores: the release commands, registered at every
// start of the CLI, test errors against it without loading them.

/** A command the CLI refuses to run as asked: no token, a bad one, one without the scope, or --actor with authentication on. */
export class OperatorRefusedError extends Error {}
