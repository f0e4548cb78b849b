// The worker thread behind threadedFeedIntake: runs feedIntake over every file
// of the run and hands each batch to the writing thread, at most `inFlight`
// batches ahead of it, so the parser never outruns the store by more than a few
// batches of memory.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { feedIntake } from './file-intake.js';
import { recycleIntakeBuffers } from './intake-batch.js';
import { intakeBatchTransfer } from './packed-batch.js';
import type { FromIntakeThread, IntakeThreadInput, ToIntakeThread } from './threaded-file-intake.js';
import { UnreadableFileError } from './unreadable-file.js';

const { files, batchSize, inFlight } = workerData as IntakeThreadInput;
const port = parentPort!;
const post = (message: FromIntakeThread) => port.postMessage(message, message.type === 'batch' ? intakeBatchTransfer(message.batch) : []);

let credits = inFlight;
let creditArrived: (() => void) | null = null;
const taken = (message: ToIntakeThread) => {
  if (message.type !== 'credit') return;
  credits += message.batches;
  recycleIntakeBuffers(message.buffers);
  creditArrived?.();
};
port.on('message', taken);
/**
 * The credits that came while this thread parsed, taken now. Its reads are synchronous, so it
 * turns its event loop only when out of credit: the buffers sent back would wait there, and
 * every batch until then would take new ones.
 */
const takeArrivedCredits = () => {
  for (let arrived = receiveMessageOnPort(port); arrived; arrived = receiveMessageOnPort(port)) taken(arrived.message as ToIntakeThread);
};

try {
  // Synchronous reads: this thread has nothing to do while it waits for its file.
  for await (const batch of feedIntake(files, batchSize, { readSync: true })) {
    takeArrivedCredits();
    while (credits === 0) await new Promise<void>((resolve) => (creditArrived = resolve));
    credits -= 1;
    post({ type: 'batch', batch });
  }
  post({ type: 'done' });
} catch (error) {
  if (error instanceof UnreadableFileError) post({ type: 'failed', message: error.reason, unreadable: error.path });
  else post({ type: 'failed', message: (error as Error)?.message ?? String(error) });
}
port.close();
