// Who is speaking: the fields every log line, every span and every metric's
// resource carry, so that a line in Splunk, a trace and a series in Prometheus
// can be traced back to one process of one deployment.

export interface ServiceIdentity {
  /** service.name: `kepler` unless OTEL_SERVICE_NAME says otherwise. */
  name: string;
  /** service.version: the release. */
  version: string;
  /** deployment.environment: KEPLER_ENVIRONMENT (prod, uat, …); `local` when unset. */
  environment: string;
  /** The blue/green slot (KEPLER_SLOT). */
  slot: string;
  /** What this process runs: its serve roles, or the CLI command it is. */
  roles: readonly string[];
}

export function serviceIdentity(
  process: { version: string; roles: readonly string[]; slot?: string },
  env: NodeJS.ProcessEnv = globalThis.process.env,
): ServiceIdentity {
  return {
    name: env.OTEL_SERVICE_NAME?.trim() || 'kepler',
    version: process.version,
    environment: env.KEPLER_ENVIRONMENT?.trim() || resourceAttribute(env, 'deployment.environment.name') || resourceAttribute(env, 'deployment.environment') || 'local',
    slot: process.slot ?? env.KEPLER_SLOT ?? 'blue',
    roles: process.roles,
  };
}

/** The fields every log line starts with. */
export function logBaseFields(identity: ServiceIdentity): Record<string, string> {
  return {
    'service.name': identity.name,
    'service.version': identity.version,
    'deployment.environment': identity.environment,
    slot: identity.slot,
    roles: identity.roles.join(','),
  };
}

/** The OpenTelemetry resource of traces and metrics: semantic-convention names, plus Kepler's own. */
export function resourceAttributes(identity: ServiceIdentity): Record<string, string> {
  return {
    'service.name': identity.name,
    'service.version': identity.version,
    'deployment.environment.name': identity.environment,
    // The older name, which Splunk Observability and many dashboards still key on.
    'deployment.environment': identity.environment,
    'kepler.slot': identity.slot,
    'kepler.roles': identity.roles.join(','),
  };
}

function resourceAttribute(env: NodeJS.ProcessEnv, key: string): string | undefined {
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const [name, value] = pair.split('=');
    if (name?.trim() === key && value) return decodeURIComponent(value.trim());
  }
  return undefined;
}
