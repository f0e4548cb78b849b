// The reconciler API as one object, handed to factory-style reconciler modules
// (`export default (kit: ReconcilerKit) => kit.defineReconciler({...})`) so that
// a module written anywhere needs no import path into Kepler.
import {
  decimalTolerance,
  defineReconciler,
  eventPayloads,
  exact,
  ignorePaths,
  keyEventsBy,
  mapPaths,
  rule,
  sortArrayBy,
  stripIds,
  stripPositions,
  stripTimestamps,
} from './reconciler.js';

export const kit = {
  defineReconciler,
  ignorePaths,
  mapPaths,
  eventPayloads,
  sortArrayBy,
  keyEventsBy,
  stripIds,
  stripTimestamps,
  stripPositions,
  exact,
  decimalTolerance,
  rule,
} as const;

export type ReconcilerKit = typeof kit;
