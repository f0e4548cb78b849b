// The reconcilers shipped with Kepler, for its own trades, bookings and positions.
import { bookingsReconciler } from './bookings.js';
import { positionsReconciler } from './positions.js';
import { tradesReconciler } from './trades.js';

export { bookingsReconciler, positionsReconciler, tradesReconciler };
export { positionCorrelationId, splitPositionCorrelationId, POSITION_CHANGE_TYPES } from './positions.js';

export default [tradesReconciler, bookingsReconciler, positionsReconciler];
