// An environment's profile as the orchestrator runs it: a Nomad job (one task
// group per role, one job per slot) or systemd units for a single host. Each
// process runs `kepler serve --profile FILE --env NAME` with the rendered
// profile shipped beside it; secrets reach it as variables, never in the job.
import { Type, type Static } from '@sinclair/typebox';
import type { RenderedProfile } from './schemas.js';
import { PARTITIONED_ROLES, type ProfileRole } from './profiles.js';

export interface Deployment {
  profile: RenderedProfile;
  profileDigest: string;
  slot: 'blue' | 'green';
  candidate: { id: string; digest: string };
  artifact: { name: string; version: string; registry: string | null };
}

const ROLE_ORDER: readonly ProfileRole[] = ['processors', 'projections', 'ingestion', 'publisher', 'command-api', 'query-api'];

function roleArgs(d: Deployment, role: ProfileRole, profileFile: string, partition: (count: number) => string): string[] {
  const spec = d.profile.roles[role];
  const partitions = spec.partitions ?? 1;
  return [
    'serve',
    '--profile',
    profileFile,
    '--env',
    d.profile.environment,
    '--roles',
    role,
    ...(PARTITIONED_ROLES.includes(role) && partitions > 1 ? ['--partition', partition(partitions)] : []),
  ];
}

function baseEnv(d: Deployment): Record<string, string> {
  return {
    KEPLER_SLOT: d.slot,
    ...(d.profile.features.tracing && { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: `kepler-${d.profile.environment}` }),
    ...(d.artifact.registry && { npm_config_registry: d.artifact.registry }),
  };
}

// ── Nomad ───────────────────────────────────────────────────────────────────

/**
 * The part of Nomad's job specification (the JSON the HTTP API's /v1/jobs
 * takes) this renderer relies on, with Nomad's field names and types. Closed,
 * so a misspelt field fails here rather than being ignored by Nomad.
 */
const closed = { additionalProperties: false } as const;
const StringMap = Type.Record(Type.String(), Type.String());
export const NomadJobSpec = Type.Object(
  {
    Job: Type.Object(
      {
        ID: Type.String({ pattern: '^[a-zA-Z0-9-]+$' }),
        Name: Type.String(),
        Type: Type.Literal('service'),
        Datacenters: Type.Array(Type.String(), { minItems: 1 }),
        Meta: StringMap,
        TaskGroups: Type.Array(
          Type.Object(
            {
              Name: Type.String({ minLength: 1 }),
              Count: Type.Integer({ minimum: 1 }),
              Meta: StringMap,
              Networks: Type.Array(Type.Object({ Mode: Type.Literal('host'), DynamicPorts: Type.Array(Type.Object({ Label: Type.String() }, closed)) }, closed)),
              Tasks: Type.Array(
                Type.Object(
                  {
                    Name: Type.String(),
                    Driver: Type.Literal('exec'),
                    Config: Type.Object({ command: Type.String(), args: Type.Array(Type.String()) }, closed),
                    Env: StringMap,
                    KillSignal: Type.Literal('SIGTERM'),
                    Templates: Type.Array(
                      Type.Object(
                        {
                          EmbeddedTmpl: Type.String(),
                          DestPath: Type.String(),
                          ChangeMode: Type.Union([Type.Literal('restart'), Type.Literal('noop')]),
                          Envvars: Type.Boolean(),
                          LeftDelim: Type.String(),
                          RightDelim: Type.String(),
                          Perms: Type.String({ pattern: '^[0-7]{3,4}$' }),
                        },
                        closed,
                      ),
                    ),
                    Resources: Type.Object({ CPU: Type.Integer({ minimum: 1 }), MemoryMB: Type.Integer({ minimum: 1 }) }, closed),
                  },
                  closed,
                ),
                { minItems: 1, maxItems: 1 },
              ),
            },
            closed,
          ),
          { minItems: 1 },
        ),
      },
      closed,
    ),
  },
  closed,
);
export type NomadJob = Static<typeof NomadJobSpec>;

export function nomadJobId(environment: string, slot: string): string {
  return `kepler-${environment}-${slot}`;
}

export function renderNomadJob(d: Deployment, options: { datacenters?: string[] } = {}): NomadJob {
  const jobId = nomadJobId(d.profile.environment, d.slot);
  const meta = {
    'kepler.environment': d.profile.environment,
    'kepler.slot': d.slot,
    'kepler.candidate': d.candidate.id,
    'kepler.candidate-digest': d.candidate.digest,
    'kepler.profile-digest': d.profileDigest,
  };
  const templates: NomadJob['Job']['TaskGroups'][number]['Tasks'][number]['Templates'] = [
    // The rendered profile, verbatim: delimiters nothing in a profile contains keep Nomad from reading it as a template.
    { EmbeddedTmpl: `${JSON.stringify(d.profile)}\n`, DestPath: 'local/profile.json', ChangeMode: 'restart', Envvars: false, LeftDelim: '[[kepler:', RightDelim: ':kepler]]', Perms: '0644' },
  ];
  if (d.profile.secrets.length > 0) {
    templates.push({
      EmbeddedTmpl: d.profile.secrets.map((name) => `${name}={{ with nomadVar "nomad/jobs/${jobId}" }}{{ .${name} }}{{ end }}`).join('\n') + '\n',
      DestPath: 'secrets/kepler.env',
      ChangeMode: 'restart',
      Envvars: true,
      LeftDelim: '{{',
      RightDelim: '}}',
      Perms: '0600',
    });
  }
  const groups = ROLE_ORDER.filter((role) => d.profile.roles[role].instances > 0).map((role) => ({
    Name: role,
    Count: d.profile.roles[role].instances,
    Meta: { 'kepler.role': role },
    Networks: [{ Mode: 'host' as const, DynamicPorts: [{ Label: 'http' }] }],
    Tasks: [
      {
        Name: 'kepler',
        Driver: 'exec' as const,
        Config: {
          command: 'npx',
          args: [
            '--yes',
            '--package',
            `${d.artifact.name}@${d.artifact.version}`,
            '--',
            'kepler',
            ...roleArgs(d, role, 'local/profile.json', (n) => `\${NOMAD_ALLOC_INDEX}/${n}`),
            '--port',
            '${NOMAD_PORT_http}',
          ],
        },
        Env: baseEnv(d),
        KillSignal: 'SIGTERM' as const,
        Templates: templates,
        Resources: { CPU: d.profile.limits.cpuMhz, MemoryMB: d.profile.limits.memoryMb },
      },
    ],
  }));
  return { Job: { ID: jobId, Name: jobId, Type: 'service', Datacenters: options.datacenters ?? ['dc1'], Meta: meta, TaskGroups: groups } };
}

// ── systemd ─────────────────────────────────────────────────────────────────

export interface SystemdUnit {
  name: string;
  text: string;
}

/**
 * Units for one host: one service per process (role and instance: its
 * partition, or its replica), each on its own port counted up from the
 * profile's, and a target that wants them all. Secrets come from an
 * EnvironmentFile only root can read.
 */
export function renderSystemdUnits(d: Deployment, options: { profilePath?: string; secretsPath?: string; npx?: string; user?: string } = {}): SystemdUnit[] {
  const env = d.profile.environment;
  const prefix = `kepler-${env}-${d.slot}`;
  const profilePath = options.profilePath ?? `/etc/kepler/${env}/profile.json`;
  const secretsPath = options.secretsPath ?? `/etc/kepler/${env}/secrets.env`;
  const npx = options.npx ?? '/usr/bin/npx';
  const units: SystemdUnit[] = [];
  let port = d.profile.http.port;
  for (const role of ROLE_ORDER) {
    const spec = d.profile.roles[role];
    for (let i = 0; i < spec.instances; i++) {
      const args = [...roleArgs(d, role, profilePath, (n) => `${i}/${n}`), '--port', String(port++)];
      units.push({
        name: `${prefix}-${role}-${i}.service`,
        text: [
          '[Unit]',
          `Description=Kepler ${env} ${role} ${i} (slot ${d.slot}, candidate ${d.candidate.id})`,
          'After=network-online.target',
          'Wants=network-online.target',
          `PartOf=${prefix}.target`,
          '',
          '[Service]',
          'Type=simple',
          `User=${options.user ?? 'kepler'}`,
          ...Object.entries(baseEnv(d)).map(([k, v]) => `Environment=${k}=${v}`),
          ...(d.profile.secrets.length > 0 ? [`EnvironmentFile=${secretsPath}`] : []),
          `ExecStart=${npx} --yes --package ${d.artifact.name}@${d.artifact.version} -- kepler ${args.join(' ')}`,
          'KillSignal=SIGTERM',
          'TimeoutStopSec=60',
          'Restart=on-failure',
          'RestartSec=5',
          `MemoryMax=${d.profile.limits.memoryMb}M`,
          `CPUQuota=${Math.max(1, Math.round(d.profile.limits.cpuMhz / 10))}%`,
          'NoNewPrivileges=yes',
          '',
          '[Install]',
          `WantedBy=${prefix}.target`,
          '',
        ].join('\n'),
      });
    }
  }
  units.push({
    name: `${prefix}.target`,
    text: [
      '[Unit]',
      `Description=Kepler ${env}, slot ${d.slot}: candidate ${d.candidate.id}, profile ${d.profileDigest}`,
      `Wants=${units.map((u) => u.name).join(' ')}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  return units;
}
