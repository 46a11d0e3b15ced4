import { generateKeyPairSync } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/app-config.js';
import { TestPki } from './support/tls.js';

// Checks docker-compose.yml without a Docker engine: the Compose Specification's JSON Schema
// (vendored, see test/fixtures/compose-spec.README.md) plus the project's own wiring rules.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const SCHEMA_FILE = join(ROOT, 'test/fixtures/compose-spec.json');
const DATASOURCE_FILE = join(ROOT, 'grafana/provisioning/datasources/influxdb.yaml');
const DASHBOARD_PROVIDER_FILE = join(ROOT, 'grafana/provisioning/dashboards/sentinel.yaml');
const DATASOURCE_UID = 'sentinel-influxdb';

/** Variables the hub must get from the stack (design section 3). */
const HUB_NEEDS = [
  'DATABASE_URL',
  'S3_ENDPOINT',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'S3_BUCKET',
  'INFLUX_URL',
  'INFLUX_DB',
  'REDIS_URL',
  'PUBLIC_URL',
];

/** What an operator would put in .env: every required variable, nothing else. */
const SAMPLE_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret-0123456789',
  S3_SECRET_KEY: 's3-secret-0123456789',
  INFLUX_PASSWORD: 'influx-secret-0123456789',
  INFLUX_READ_PASSWORD: 'influx-read-secret-0123456789',
  INFLUX_ADMIN_PASSWORD: 'influx-admin-secret-0123456789',
  GRAFANA_ADMIN_PASSWORD: 'grafana-secret-0123456789',
  TRUSTED_KEYS_FILE: '/srv/sentinel/trusted-keys.pem',
  TLS_DIR: '/srv/sentinel/tls',
};

// ajv-formats is CommonJS: under nodenext its default import is module.exports, whose .default is
// the plugin.
const addFormats = addFormatsModule.default;

type DependsOn = string[] | Record<string, { condition?: string; required?: boolean }>;
type Volume = string | { type?: string; source?: string; target?: string };
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: DependsOn;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: Volume[];
  ports?: (string | number | { target?: number })[];
  restart?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

interface Interpolated {
  value: unknown;
  used: Set<string>;
  required: Set<string>;
}

/**
 * Compose's variable interpolation ($$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e},
 * ${VAR:+r}, ${VAR+r}) over every string value, as `docker compose config` does before validating.
 */
function interpolate(value: unknown, env: Record<string, string | undefined>): Interpolated {
  const used = new Set<string>();
  const required = new Set<string>();
  const missing: string[] = [];
  const expand = (text: string): string =>
    text.replace(
      /\$(\$|\{([^}]*)\}|[A-Za-z_][A-Za-z0-9_]*)?/g,
      (match, body?: string, braced?: string) => {
        if (body === undefined) throw new Error(`invalid "$" in ${JSON.stringify(text)}`);
        if (body === '$') return '$';
        const expression = braced ?? body;
        const parts = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expression);
        if (!parts || (parts[3] ?? '').includes('$'))
          throw new Error(`unsupported template ${match}`);
        const [, name, operator, argument = ''] = parts;
        used.add(name);
        const raw = env[name];
        const set = operator?.startsWith(':') ? raw !== undefined && raw !== '' : raw !== undefined;
        switch (operator) {
          case ':-':
          case '-':
            return set ? raw! : argument;
          case ':?':
          case '?':
            required.add(name);
            if (!set) missing.push(`${name}: ${argument}`);
            return raw ?? '';
          case ':+':
          case '+':
            return set ? argument : '';
          default:
            return raw ?? '';
        }
      },
    );
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return expand(node);
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
    }
    return node;
  };
  const result = walk(value);
  if (missing.length > 0) {
    throw new Error(`required variables missing: ${[...new Set(missing)].join('; ')}`);
  }
  return { value: result, used, required };
}

function compileComposeSchema(): { ajv: Ajv; validate: ValidateFunction } {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  assert.match(
    String(schema.$schema),
    /draft-07/,
    'the vendored compose schema is expected to be draft-07',
  );
  // Ajv knows draft-07 only by its canonical URI; the upstream file spells it with https and no '#'.
  schema.$schema = 'http://json-schema.org/draft-07/schema#';
  // strictTypes is off because the upstream schema leaves `type` implicit next to oneOf branches;
  // the other strict checks (unknown keywords, unknown formats) stay on.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  return { ajv, validate: ajv.compile(schema) };
}

function describeErrors(ajv: Ajv, errors: ErrorObject[] | null | undefined): string {
  return `${ajv.errorsText(errors, { separator: '\n', dataVar: 'compose' })}\n${JSON.stringify(errors, null, 2)}`;
}

function environmentOf(service: Service): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [key, String(value ?? '')]),
  );
}

function dependenciesOf(service: Service): [string, string][] {
  const dependsOn = service.depends_on ?? [];
  if (Array.isArray(dependsOn)) return dependsOn.map((name) => [name, 'service_started']);
  return Object.entries(dependsOn).map(([name, options]) => [
    name,
    options.condition ?? 'service_started',
  ]);
}

/** Volume mounts in long form; short strings split as Compose does (source:target[:mode]). */
function mountsOf(service: Service): { type: string; source: string; target: string }[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') {
      return {
        type: volume.type ?? 'volume',
        source: volume.source ?? '',
        target: volume.target ?? '',
      };
    }
    const [source, target] = volume.split(':');
    if (target === undefined) return { type: 'volume', source: '', target: source };
    const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    return { type: bind ? 'bind' : 'volume', source, target };
  });
}

function readYaml(file: string): unknown {
  return parse(readFileSync(file, 'utf8'));
}

const rawText = readFileSync(COMPOSE_FILE, 'utf8');
const raw = parse(rawText) as unknown;
const interpolated = interpolate(raw, SAMPLE_ENV);
const compose = interpolated.value as ComposeFile;
const services = compose.services;

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON Schema', () => {
    const { ajv, validate } = compileComposeSchema();
    const valid = validate(compose);
    assert.ok(
      valid,
      `docker-compose.yml does not match the compose schema:\n${describeErrors(ajv, validate.errors)}`,
    );
  });

  it('the validator rejects copies with a planted invalid property, for that reason', () => {
    const { ajv, validate } = compileComposeSchema();
    type Copy = ComposeFile & Record<string, unknown>;
    const cases: [string, (copy: Copy) => void, (error: ErrorObject) => boolean][] = [
      [
        'unknown service key',
        (copy) => Object.assign(copy.services.hub, { depend_on: ['postgres'] }),
        (error) =>
          error.instancePath === '/services/hub' && error.params.additionalProperty === 'depend_on',
      ],
      [
        'unknown healthcheck key',
        (copy) => Object.assign(copy.services.postgres.healthcheck!, { intervall: '5s' }),
        (error) => error.params.additionalProperty === 'intervall',
      ],
      [
        'unknown depends_on condition',
        (copy) =>
          Object.assign(copy.services.hub, {
            depends_on: { postgres: { condition: 'service_ready' } },
          }),
        (error) =>
          error.keyword === 'enum' &&
          error.instancePath === '/services/hub/depends_on/postgres/condition',
      ],
      [
        'ports not a list',
        (copy) => Object.assign(copy.services.hub, { ports: 8070 }),
        (error) => error.keyword === 'type' && error.instancePath === '/services/hub/ports',
      ],
      [
        'unknown top-level key',
        (copy) => Object.assign(copy, { service: {} }),
        (error) => error.instancePath === '' && error.params.additionalProperty === 'service',
      ],
    ];
    for (const [label, plant, expected] of cases) {
      const copy = structuredClone(compose) as Copy;
      plant(copy);
      assert.equal(validate(copy), false, `${label}: accepted although invalid`);
      assert.ok(
        validate.errors?.some(expected),
        `${label}: rejected for another reason:\n${describeErrors(ajv, validate.errors)}`,
      );
    }
  });

  it('refuses to interpolate without the required secrets, and the header documents every variable', () => {
    assert.throws(
      () => interpolate(raw, {}),
      (error: Error) => Object.keys(SAMPLE_ENV).every((name) => error.message.includes(`${name}:`)),
    );
    const header = rawText.slice(0, rawText.search(/^[^#\n]/m));
    assert.ok(header.includes('docker compose up -d'), 'the header says how to start the stack');
    const undocumented = [...interpolated.used].filter(
      (name) => !new RegExp(`\\b${name}\\b`).test(header),
    );
    assert.deepEqual(undocumented, [], 'variables the file reads but the header does not mention');
    const notMarkedRequired = [...interpolated.required].filter(
      (name) => !new RegExp(`^#\\s+required\\s+${name}\\b`, 'm').test(header),
    );
    assert.deepEqual(
      notMarkedRequired,
      [],
      'required (${VAR:?}) variables the header does not mark required',
    );
    assert.deepEqual([...interpolated.required].sort(), Object.keys(SAMPLE_ENV).sort());
  });

  it('depends only on services that exist, with a healthcheck behind every service_healthy', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [target, condition] of dependenciesOf(service)) {
        const dependency = services[target];
        if (!dependency) {
          problems.push(`${name} depends on unknown service ${target}`);
          continue;
        }
        const checked =
          dependency.healthcheck?.test !== undefined && dependency.healthcheck.disable !== true;
        if (condition === 'service_healthy' && !checked) {
          problems.push(
            `${name} waits for ${target} to be healthy, but ${target} has no healthcheck`,
          );
        }
        if (
          condition === 'service_completed_successfully' &&
          (dependency.restart ?? 'no') !== 'no'
        ) {
          problems.push(
            `${name} waits for one-shot ${target} to exit, but ${target} restarts (${dependency.restart})`,
          );
        }
      }
    }
    const oneShots = new Set(
      Object.values(services).flatMap((service) =>
        dependenciesOf(service)
          .filter(([, condition]) => condition === 'service_completed_successfully')
          .map(([target]) => target),
      ),
    );
    for (const [name, service] of Object.entries(services)) {
      if (!oneShots.has(name) && !service.healthcheck?.test)
        problems.push(`long-running ${name} has no healthcheck`);
    }
    assert.deepEqual(problems, []);
  });

  it('gives the hub every variable it needs, and its config accepts them', () => {
    const hub = services.hub;
    assert.ok(hub, 'a service named hub');
    const environment = environmentOf(hub);
    const absent = HUB_NEEDS.filter((name) => !environment[name]);
    assert.deepEqual(absent, [], 'hub variables missing or empty');

    // The mounted files do not exist here: point TRUSTED_KEYS and the TLS files at stand-ins.
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-compose-'));
    const pki = new TestPki();
    try {
      const keys = join(dir, 'trusted-keys.pem');
      // a real key: the hub's config parses TRUSTED_KEYS
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(keys, publicKey.export({ type: 'spki', format: 'pem' }).toString());
      const keysMount = mountsOf(hub).find((mount) => mount.target === environment.TRUSTED_KEYS);
      assert.ok(
        keysMount,
        `TRUSTED_KEYS (${environment.TRUSTED_KEYS}) is a file mounted into the hub`,
      );
      for (const name of ['TLS_CERT_FILE', 'TLS_KEY_FILE'] as const) {
        const mount = mountsOf(hub).find((m) => environment[name].startsWith(`${m.target}/`));
        assert.ok(mount?.type === 'bind', `${name} is in a mounted folder (not a file mount)`);
      }
      const server = pki.server(pki.ca('compose-ca'));
      const config = loadConfig({
        ...environment,
        TRUSTED_KEYS: keys,
        TLS_CERT_FILE: server.cert,
        TLS_KEY_FILE: server.key,
      });
      assert.equal(config.PORT, 8070);
      assert.equal(config.MQTT_PLAINTEXT, false, 'no clear-text MQTT in production');
      assert.equal(config.TLS_CLIENT_AUTH, undefined);
      assert.equal(config.S3_BUCKET, 'sentinel-models');
      assert.equal(config.INFLUX_DB, 'sentinel');
      assert.equal(config.REQUIRE_SIGNED_MODELS, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      pki.remove();
    }
  });

  it('waits, healthy, for every engine the hub environment points at', () => {
    const hub = services.hub;
    const conditions = new Map(dependenciesOf(hub));
    const problems: string[] = [];
    for (const [name, value] of Object.entries(environmentOf(hub))) {
      if (!/^[a-z][a-z0-9+.-]*:\/\//.test(value)) continue;
      const host = new URL(value).hostname;
      if (host === 'localhost' && name === 'PUBLIC_URL') continue;
      if (!services[host]) problems.push(`${name} points at ${host}, which is not a service`);
      else if (conditions.get(host) !== 'service_healthy')
        problems.push(`${name}: hub does not wait for ${host} to be healthy`);
    }
    assert.deepEqual(problems, []);
    const publishedTargets = (hub.ports ?? []).map((port) =>
      Number(String(port).split(':').at(-1)),
    );
    assert.deepEqual(publishedTargets.sort(), [8070, 8084, 8883]);
    assert.deepEqual(hub.healthcheck?.test, ['CMD', 'node', 'dist/scripts/healthcheck.js']);
    assert.ok(existsSync(join(ROOT, 'scripts/healthcheck.ts')));
  });

  it('mounts only relative host paths that exist, and declares every named volume', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) {
        const build =
          typeof service.build === 'string' ? { context: service.build } : service.build;
        const context = join(ROOT, build.context ?? '.');
        if (!existsSync(context)) problems.push(`${name}: build context ${build.context} missing`);
        if (!existsSync(join(context, build.dockerfile ?? 'Dockerfile')))
          problems.push(`${name}: Dockerfile missing`);
      }
      for (const mount of mountsOf(service)) {
        if (
          mount.type === 'bind' &&
          !isAbsolute(mount.source) &&
          !existsSync(join(ROOT, mount.source))
        ) {
          problems.push(`${name}: bind source ${mount.source} does not exist in the repository`);
        }
        if (mount.type === 'volume' && mount.source && !(mount.source in (compose.volumes ?? {}))) {
          problems.push(`${name}: named volume ${mount.source} is not declared under volumes:`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe('Grafana provisioning', () => {
  const grafana = services.grafana;
  const mounts = mountsOf(grafana);
  const targetOf = (source: string) => mounts.find((mount) => mount.source === source)?.target;

  it('mounts ./grafana/provisioning and ./grafana/dashboards where Grafana and the provider look', () => {
    assert.equal(targetOf('./grafana/provisioning'), '/etc/grafana/provisioning');
    const provider = readYaml(DASHBOARD_PROVIDER_FILE) as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    };
    assert.equal(provider.apiVersion, 1);
    assert.equal(provider.providers.length, 1);
    assert.equal(provider.providers[0].type, 'file');
    assert.equal(provider.providers[0].options.path, targetOf('./grafana/dashboards'));
    const environment = environmentOf(grafana);
    assert.equal(environment.GF_AUTH_ANONYMOUS_ENABLED, 'false');
    assert.ok(environment.GF_SECURITY_ADMIN_PASSWORD, 'admin password comes from the environment');
  });

  it('provisions the InfluxDB datasource the dashboards reference by uid', () => {
    const file = readYaml(DATASOURCE_FILE) as {
      apiVersion: number;
      datasources: {
        uid: string;
        type: string;
        url: string;
        user?: string;
        jsonData: { version?: string; dbName: string };
        secureJsonData?: { password?: string };
      }[];
    };
    assert.equal(file.apiVersion, 1);
    const datasource = file.datasources.find((entry) => entry.uid === DATASOURCE_UID);
    assert.ok(datasource, `a datasource with uid ${DATASOURCE_UID}`);
    assert.equal(datasource.type, 'influxdb');
    assert.equal(datasource.jsonData.version, 'InfluxQL');
    assert.equal(datasource.url, environmentOf(services.hub).INFLUX_URL);
    assert.ok(
      services[new URL(datasource.url).hostname],
      'the datasource host is a compose service',
    );
    assert.equal(datasource.jsonData.dbName, environmentOf(services.influxdb).INFLUXDB_DB);
    assert.equal(datasource.jsonData.dbName, environmentOf(services.hub).INFLUX_DB);
    // Credentials come from Grafana's environment, so every $VAR it names must be set there.
    const named = JSON.stringify(datasource).match(/\$\{?[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
    assert.ok(named.length > 0, 'the datasource reads its credentials from the environment');
    const environment = environmentOf(grafana);
    const unset = named
      .map((ref) => ref.replace(/^\$\{?/, ''))
      .filter((name) => !environment[name]);
    assert.deepEqual(unset, [], 'datasource variables not set in the grafana service');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('builds without downloads, runs dist/src/main.js as non-root and exposes what compose publishes', () => {
    const ci = instructions.findIndex((line) => /^RUN .*npm ci\b/.test(line));
    const skip = instructions.findIndex((line) =>
      /^ENV .*ONNXRUNTIME_NODE_INSTALL=skip/.test(line),
    );
    assert.ok(
      ci > 0 && skip >= 0 && skip < ci,
      'ONNXRUNTIME_NODE_INSTALL=skip is set before npm ci',
    );
    assert.ok(instructions.some((line) => /^RUN .*npm prune --omit=dev/.test(line)));
    const user = instructions.filter((line) => line.startsWith('USER ')).at(-1);
    assert.ok(user && !/^USER (root|0)(:|$)/.test(user), `runs as non-root (${user})`);
    assert.match(
      instructions.filter((line) => line.startsWith('CMD ')).at(-1) ?? '',
      /dist\/src\/main\.js/,
    );
    assert.ok(existsSync(join(ROOT, 'src/main.ts')));
    const exposed = instructions
      .filter((line) => line.startsWith('EXPOSE '))
      .flatMap((line) => line.slice(7).trim().split(/\s+/).map(Number));
    // the plain ports too, for a hub run without TLS; compose publishes the TLS ones
    assert.deepEqual(exposed.sort(), [1883, 8070, 8083, 8084, 8883]);
    const published = (services.hub.ports ?? []).map((port) =>
      Number(String(port).split(':').at(-1)),
    );
    assert.deepEqual(
      published.filter((port) => !exposed.includes(port)),
      [],
    );
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', '**/node_modules', '**/dist'])
      assert.ok(ignored.includes(entry), `.dockerignore has ${entry}`);
  });
});
