// The worker thread behind threadedFileIntake: runs fileIntake and hands each
// batch to the writing thread, at most `inFlight` batches ahead of it, so the
// parser never outruns the store by more than a few batches of memory.
import { parentPort, workerData } from 'node:worker_threads';
import { fileIntake } from './file-intake.js';
import { packIntakeBatch, type FromIntakeThread, type IntakeThreadInput, type ToIntakeThread } from './threaded-file-intake.js';

const { path, file, batchSize, inFlight } = workerData as IntakeThreadInput;
const port = parentPort!;
const post = (message: FromIntakeThread) => port.postMessage(message);

let credits = inFlight;
let creditArrived: (() => void) | null = null;
port.on('message', (message: ToIntakeThread) => {
  if (message.type !== 'credit') return;
  credits += 1;
  creditArrived?.();
});

try {
  const batches = fileIntake(path, file, batchSize);
  for (;;) {
    const next = await batches.next();
    if (next.done) {
      post({ type: 'done', summary: next.value });
      break;
    }
    while (credits === 0) await new Promise<void>((resolve) => (creditArrived = resolve));
    credits -= 1;
    post({ type: 'batch', batch: packIntakeBatch(next.value) });
  }
} catch (error) {
  const errno = error as NodeJS.ErrnoException;
  post({ type: 'failed', message: errno.message ?? String(error), ...(typeof errno.syscall === 'string' && { syscall: errno.syscall, code: errno.code }) });
}
port.close();
