// The RabbitMQ topology as data: what Kepler wants and what the broker has are
// values of the same type, so the difference between them is a pure function.
import { createHash } from 'node:crypto';
import { OWNER_ARGUMENT, type Arguments, type BindingDeclaration, type ExchangeDeclaration, type QueueDeclaration } from '../messaging/index.js';

export type { Arguments, BindingDeclaration, ExchangeDeclaration, QueueDeclaration };

export interface PolicyDeclaration {
  name: string;
  pattern: string;
  applyTo: 'queues' | 'exchanges' | 'all';
  priority: number;
  definition: Arguments;
}

export interface Topology {
  exchanges: readonly ExchangeDeclaration[];
  queues: readonly QueueDeclaration[];
  bindings: readonly BindingDeclaration[];
  policies: readonly PolicyDeclaration[];
}

export const EMPTY_TOPOLOGY: Topology = { exchanges: [], queues: [], bindings: [], policies: [] };

/** JSON with object keys sorted, so equal values have equal text. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A binding's identity: RabbitMQ tells bindings apart by all of these, arguments included. */
export function bindingKey(b: BindingDeclaration): string {
  return canonical([b.source, b.destinationType, b.destination, b.routingKey, b.arguments]);
}

export function describeBinding(b: BindingDeclaration): string {
  return `${b.source || '(default)'} → ${b.destinationType} ${b.destination} [${b.routingKey}]`;
}

/** Which objects Kepler considers its own: its name prefix, and its mark where the object can carry one. */
export class Ownership {
  constructor(readonly prefix: string) {}

  inScope(name: string): boolean {
    return name === this.prefix || name.startsWith(`${this.prefix}.`);
  }

  bindingInScope(b: BindingDeclaration): boolean {
    return this.inScope(b.source) || this.inScope(b.destination);
  }

  private marked(args: Arguments): boolean {
    return args[OWNER_ARGUMENT] === this.prefix;
  }

  exchange(e: ExchangeDeclaration): boolean {
    return this.inScope(e.name) && this.marked(e.arguments);
  }

  queue(q: QueueDeclaration): boolean {
    return this.inScope(q.name) && this.marked(q.arguments);
  }

  binding(b: BindingDeclaration): boolean {
    return this.bindingInScope(b) && this.marked(b.arguments);
  }

  /** A policy cannot carry a mark (RabbitMQ refuses unknown keys in a definition): its name is its mark. */
  policy(p: PolicyDeclaration): boolean {
    return p.name.startsWith(`${this.prefix}.`);
  }
}

/** What cannot change in place: for a queue, everything but the owner mark (declaring again does not compare unknown arguments). */
export function significant(declaration: ExchangeDeclaration | QueueDeclaration): string {
  const { [OWNER_ARGUMENT]: _owner, ...args } = declaration.arguments;
  return canonical({ ...declaration, arguments: args });
}

/** The part of the broker Kepler plans against: objects named with the prefix, and bindings touching them. */
export function scoped(topology: Topology, ownership: Ownership): Topology {
  return {
    exchanges: topology.exchanges.filter((e) => ownership.inScope(e.name)),
    queues: topology.queues.filter((q) => ownership.inScope(q.name)),
    bindings: topology.bindings.filter((b) => ownership.bindingInScope(b)),
    policies: topology.policies.filter((p) => ownership.inScope(p.name)),
  };
}

/** The digest of a (scoped) topology: a saved plan names the one it was made against. */
export function digestOf(topology: Topology): string {
  const sorted = {
    exchanges: [...topology.exchanges].map(canonical).sort(),
    queues: [...topology.queues].map(canonical).sort(),
    bindings: [...topology.bindings].map(canonical).sort(),
    policies: [...topology.policies].map(canonical).sort(),
  };
  return `sha256:${createHash('sha256').update(canonical(sorted)).digest('hex')}`;
}
