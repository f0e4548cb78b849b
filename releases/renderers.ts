// An environment's profile as the orchestrator runs it: a Nomad job (one task
// group per role, one job per slot) or systemd units for a single host. Each
// process runs `kepler serve --profile FILE --env NAME` with the rendered
// profile shipped beside it; secrets reach it as variables, never in the job.
//
// The gateway and the topology reconciler belong to no slot: they route between
// the slots and tend the broker for both. They render as the environment's
// shared part (`part: 'shared'`), a job or a target of their own, so deploying
// a candidate into the idle slot neither restarts nor duplicates them.
import { Type, type Static } from '@sinclair/typebox';
import type { RenderedProfile } from './schemas.js';
import { PARTITIONED_ROLES, roleSpec, type ProfileRole } from './profiles.js';

export interface Deployment {
  profile: RenderedProfile;
  profileDigest: string;
  slot: 'blue' | 'green';
  candidate: { id: string; digest: string };
  artifact: { name: string; version: string; registry: string | null };
}

/** A slot's processes, or the environment's shared ones (gateway, topology). */
export type Part = 'slot' | 'shared';
export const ROLE_ORDER: Record<Part, readonly ProfileRole[]> = {
  slot: ['processors', 'projections', 'ingestion', 'publisher', 'command-api', 'query-api'],
  shared: ['topology', 'gateway'],
};

function rolesOf(d: Deployment, part: Part): ProfileRole[] {
  const roles = ROLE_ORDER[part].filter((role) => roleSpec(d.profile, role).instances > 0);
  if (roles.length === 0) throw new Error(`profile ${d.profile.environment} runs no ${part === 'shared' ? 'gateway or topology' : 'slot'} processes`);
  return roles;
}

function roleArgs(d: Deployment, role: ProfileRole, profileFile: string, partition: (count: number) => string): string[] {
  const partitions = roleSpec(d.profile, role).partitions ?? 1;
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

/** Telemetry, limits and the environment's name come from the profile itself (serve --profile sets them). */
function baseEnv(d: Deployment, part: Part): Record<string, string> {
  return {
    ...(part === 'slot' && { KEPLER_SLOT: d.slot }),
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

/** kepler-ENV-SLOT for a slot's job, kepler-ENV-shared for the gateway and topology. */
export function nomadJobId(environment: string, slot: string): string {
  return `kepler-${environment}-${slot}`;
}

export function renderNomadJob(d: Deployment, options: { datacenters?: string[]; part?: Part } = {}): NomadJob {
  const part = options.part ?? 'slot';
  const jobId = nomadJobId(d.profile.environment, part === 'slot' ? d.slot : 'shared');
  const meta = {
    'kepler.environment': d.profile.environment,
    'kepler.slot': part === 'slot' ? d.slot : 'shared',
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
  const groups = rolesOf(d, part).map((role) => ({
    Name: role,
    Count: roleSpec(d.profile, role).instances,
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
        Env: baseEnv(d, part),
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
 * EnvironmentFile only root can read. The shared part's ports follow a slot's
 * (both slots use the same ones), so the three parts can share one host.
 */
export function renderSystemdUnits(d: Deployment, options: { profilePath?: string; secretsPath?: string; npx?: string; user?: string; part?: Part } = {}): SystemdUnit[] {
  const part = options.part ?? 'slot';
  const env = d.profile.environment;
  const prefix = `kepler-${env}-${part === 'slot' ? d.slot : 'shared'}`;
  const profilePath = options.profilePath ?? `/etc/kepler/${env}/profile.json`;
  const secretsPath = options.secretsPath ?? `/etc/kepler/${env}/secrets.env`;
  const npx = options.npx ?? '/usr/bin/npx';
  const units: SystemdUnit[] = [];
  const slotProcesses = ROLE_ORDER.slot.reduce((sum, role) => sum + roleSpec(d.profile, role).instances, 0);
  let port = d.profile.http.port + (part === 'slot' ? 0 : slotProcesses);
  for (const role of rolesOf(d, part)) {
    const spec = roleSpec(d.profile, role);
    for (let i = 0; i < spec.instances; i++) {
      const args = [...roleArgs(d, role, profilePath, (n) => `${i}/${n}`), '--port', String(port++)];
      units.push({
        name: `${prefix}-${role}-${i}.service`,
        text: [
          '[Unit]',
          `Description=Kepler ${env} ${role} ${i} (${part === 'slot' ? `slot ${d.slot}` : 'shared by the slots'}, candidate ${d.candidate.id})`,
          'After=network-online.target',
          'Wants=network-online.target',
          `PartOf=${prefix}.target`,
          '',
          '[Service]',
          'Type=simple',
          `User=${options.user ?? 'kepler'}`,
          ...Object.entries(baseEnv(d, part)).map(([k, v]) => `Environment=${k}=${v}`),
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
      `Description=Kepler ${env}, ${part === 'slot' ? `slot ${d.slot}` : 'gateway and topology'}: candidate ${d.candidate.id}, profile ${d.profileDigest}`,
      `Wants=${units.map((u) => u.name).join(' ')}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  return units;
}
