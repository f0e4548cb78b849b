// The topology reconciler: desired RabbitMQ topology as data, the broker read through the
// management API, a pure planner, an executor, and the continuous `topology` role.
export * from './model.js';
export { desiredTopology, DEFAULT_DELIVERY_LIMIT, type DesiredOptions, type Routing } from './desired.js';
export { ManagementClient, ManagementError, vhostOf } from './management.js';
export { planTopology, inversePlan, describeAction, type Action, type Operation, type Plan, type PlanOptions, type Risk } from './plan.js';
export { applyActions, applyPlan, observe, RefusedOperationError, StalePlanError, type ApplyOptions, type ApplyReport, type BrokerAccess } from './apply.js';
export { converge, planFor, TopologyReconciler, type Convergence, type ReconcilerStatus, type TopologyTarget } from './reconciler.js';
