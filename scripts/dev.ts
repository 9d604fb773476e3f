// npm run dev [-- --watch] [-- --keycloak-port N] [-- --postgres]: the quick start. Checks the service's port,
// starts the pinned Keycloak from the local distribution (or uses KEYCLOAK_URL), lets the Swagger
// UI and console clients log in on the service's port, then runs the service (src/main.ts) on
// http://localhost:$PORT with Swagger UI at /docs and the console at /console (built first when
// missing or older than its sources). With --watch, a code change restarts the
// service only; Keycloak stays up. With --postgres (or KEYCLOAK_DB=postgres), Keycloak runs on a
// PostgreSQL server of its own (scripts/lib/postgres-local.ts; a fresh database each time).
// With --tracing[=URL], the service and Keycloak send their spans to an OTLP/HTTP endpoint (default
// http://127.0.0.1:4318, e.g. Jaeger's all-in-one): one trace holds a request, its Keycloak calls
// and Keycloak's own work (a Keycloak distribution built with tracing, prepared once).
//
// Cleaning up is set up before anything starts: Ctrl-C (or SIGTERM, SIGHUP) at any moment, also
// while Keycloak boots, stops the service, then Keycloak, then PostgreSQL; a second Ctrl-C kills
// them all at once.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { type Config, loadConfig } from '../src/config.js';
import { buildConsole, consoleBuildStale } from './lib/console-build.js';
import {
  bootstrapAdmin,
  freePort,
  InterruptedError,
  keycloakDbFromEnv,
  MissingPrerequisiteError,
  projectRoot,
  type RunningKeycloak,
  realmName,
  startLocalKeycloak,
  waitForRealm,
} from './lib/keycloak-local.js';
import { type KeycloakOnPostgres, startKeycloakOnPostgres } from './lib/postgres-local.js';
import { fail, killGroup, sayer } from './lib/process.js';

const minimumNode = [22, 12];
const preferredKeycloakPort = 8080;
const defaultOtlpEndpoint = 'http://127.0.0.1:4318';

const { values: args } = parseArgs({
  options: {
    watch: { type: 'boolean', default: false },
    'keycloak-port': { type: 'string' },
    postgres: { type: 'boolean', default: false },
    tracing: { type: 'string' },
  },
  // --tracing alone means the default endpoint
  args: process.argv.slice(2).map((arg) => (arg === '--tracing' ? `--tracing=${defaultOtlpEndpoint}` : arg)),
});
/** Where `--tracing` sends spans: OTLP over HTTP, as Jaeger and the OpenTelemetry Collector take it. */
const tracingEndpoint = args.tracing?.replace(/\/+$/, '');

let keycloak: RunningKeycloak | undefined;
/** With --postgres: Keycloak's node and its PostgreSQL server (stopped after Keycloak). */
let onPostgres: KeycloakOnPostgres | undefined;
let service: ChildProcess | undefined;
const shutdown = new AbortController();
const say = sayer('dev');

async function stopService(): Promise<void> {
  const child = service;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  killGroup(child.pid, 'SIGTERM');
  // the service finishes in-flight requests for up to 10 s
  if ((await Promise.race([exited, sleep(15_000, 'timeout')])) === 'timeout') killGroup(child.pid, 'SIGKILL');
}

async function stopKeycloak(): Promise<void> {
  await keycloak?.stop();
  await onPostgres?.stop();
}

async function stopAll(): Promise<void> {
  await stopService();
  await stopKeycloak();
}

function killKeycloak(): void {
  keycloak?.kill();
  onPostgres?.kill();
}

function onSignal(signal: NodeJS.Signals): void {
  if (shutdown.signal.aborted) {
    say(`second ${signal}: killing the service and Keycloak now`);
    killGroup(service?.pid, 'SIGKILL');
    killKeycloak();
    process.exit(1);
  }
  say(`${signal}: stopping ${keycloak ? 'the service and Keycloak' : 'the service'} (again to kill at once)`);
  shutdown.abort(new InterruptedError(signal));
  stopAll().then(
    () => process.exit(0),
    (error: unknown) => {
      say(`stopping failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}

// Before anything is spawned, so that no moment is left without them.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
// Last resort when the process ends any other way (an uncaught error): nothing outlives it.
process.on('exit', () => {
  killGroup(service?.pid, 'SIGKILL');
  killKeycloak();
});

try {
  await main();
} catch (error) {
  if (!shutdown.signal.aborted) {
    await stopAll();
    if (error instanceof MissingPrerequisiteError || error instanceof InterruptedError)
      fail((error as Error).message);
    throw error;
  }
  // a signal is stopping everything; its handler exits
}

async function main(): Promise<void> {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < (minimumNode[0] ?? 0) || (major === minimumNode[0] && minor < (minimumNode[1] ?? 0)))
    fail(
      `Node.js ${process.versions.node} is too old: this project needs ${minimumNode.join('.')} or newer (24 LTS recommended).`,
    );

  // Variables from .env (git-ignored; see .env.example) when there is one; the environment wins.
  const envFile = join(projectRoot, '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);

  // The whole configuration checked before Keycloak boots: a typo fails now, not in a minute.
  const port = Number(process.env.PORT ?? 3000);
  const serviceEnv: NodeJS.ProcessEnv = {
    ...(tracingEndpoint
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: tracingEndpoint, OTEL_SERVICE_NAME: 'api-clients-service' }
      : {}),
    KEYCLOAK_CLIENT_SECRET: 'api-clients-service-dev-secret',
    // the demo realm's fixed secret: the service refuses it unless told it runs for development
    API_CLIENTS_DEV_MODE: 'true',
    CORS_ORIGINS: `http://localhost:${port}`,
    ...process.env,
  };
  // an empty KEYCLOAK_URL (e.g. `KEYCLOAK_URL=` in .env) means: start the local Keycloak
  if (!serviceEnv.KEYCLOAK_URL) delete serviceEnv.KEYCLOAK_URL;
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ KEYCLOAK_URL: 'http://127.0.0.1:8080', ...serviceEnv });
  } catch (error) {
    fail(`Invalid configuration: ${(error as Error).message}`);
  }
  if (!(await canListen(config.host, config.port)))
    fail(
      `Port ${config.port} on ${config.host} is in use (another \`npm run dev\` or \`npm start\`?).\n` +
        `Stop that process, or run the service on another port: PORT=${config.port + 1} npm run dev`,
    );
  const { metrics } = config;
  if (metrics.enabled && metrics.port !== undefined && !(await canListen(metrics.host, metrics.port)))
    fail(
      `Port ${metrics.port} on ${metrics.host} for /metrics is in use (another \`npm run dev\` or \`npm start\`?).\n` +
        `Set METRICS_PORT=0 (any free port), another METRICS_PORT, or METRICS_ON_PUBLIC_PORT=true`,
    );

  if (consoleBuildStale()) {
    say('building the console (console/ into dist/console)');
    await buildConsole();
  }

  let keycloakUrl = serviceEnv.KEYCLOAK_URL;
  if (keycloakUrl) {
    say(`using KEYCLOAK_URL=${keycloakUrl}`);
    await waitForRealm(keycloakUrl);
  } else if (args.postgres || keycloakDbFromEnv() === 'postgres') {
    say('Keycloak on PostgreSQL: starting a PostgreSQL server of its own, then Keycloak');
    const started = await startKeycloakOnPostgres({
      httpPort: await keycloakPort(),
      signal: shutdown.signal,
      onStarted: (all) => {
        onPostgres = all;
      },
    });
    keycloak = started.nodes[0];
    keycloakUrl = keycloak?.url;
  } else {
    keycloak = await startLocalKeycloak({
      httpPort: await keycloakPort(),
      signal: shutdown.signal,
      ...(tracingEndpoint ? { tracingEndpoint } : {}),
      onSpawn: (started) => {
        keycloak = started;
      },
    });
    keycloakUrl = keycloak.url;
  }
  if (!keycloakUrl) throw new Error('no Keycloak started');
  await allowLogin(
    keycloakUrl,
    config.auth.docsClientId,
    'Swagger UI',
    '/docs/static/oauth2-redirect.html',
    config,
  );
  await allowLogin(keycloakUrl, config.auth.consoleClientId, 'Console', '/console/', config);

  service = spawn(process.execPath, serviceArgs(args.watch ?? false), {
    cwd: projectRoot,
    env: { ...serviceEnv, KEYCLOAK_URL: keycloakUrl },
    stdio: ['ignore', 'inherit', 'inherit'],
    // its own process group: Ctrl-C reaches this script only, which stops the service once, then Keycloak
    detached: true,
  });
  service.once('exit', (code, signal) => {
    if (shutdown.signal.aborted) return;
    say(`the service exited (${signal ?? `code ${code}`}); stopping Keycloak`);
    shutdown.abort(new Error('service exited'));
    void stopKeycloak().then(() => process.exit(code ?? 1));
  });
  const base = `http://localhost:${config.port}`;
  await waitForService(`http://${probeHost(config.host)}:${config.port}/healthz`);
  console.log(`
API Clients service: ${base}   (Swagger UI: ${base}/docs, console: ${base}/console)
Keycloak:            ${keycloakUrl}   (admin console: admin / admin)
Demo users (password = username): alice (admin of acme), victor (viewer of acme),
  gina (admin of globex), mira (viewer of acme and globex), paula (platform admin)
${tracingEndpoint ? tracingNote(tracingEndpoint, Boolean(keycloak) && !onPostgres) : ''}${args.watch ? 'Watching src/: a change restarts the service; Keycloak stays up.\n' : ''}Press Ctrl-C to stop the service${keycloak ? ' and Keycloak' : ''}.
`);
}

/** Where the spans go, and how to see them without a collector of one's own. */
function tracingNote(endpoint: string, keycloakTraced: boolean): string {
  return `Traces:              OTLP/HTTP to ${endpoint} from the service${keycloakTraced ? ' and Keycloak' : ' (not Keycloak: only the one npm run dev starts on H2 traces itself)'}.
  No collector there? With Docker, Jaeger's all-in-one takes OTLP on 4318 and shows traces on 16686:
    docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/jaeger:latest   # then http://localhost:16686
  Spans that cannot be sent are dropped; the service runs on regardless.
`;
}

function serviceArgs(watch: boolean): string[] {
  if (!watch) return ['--import', 'tsx', 'src/main.ts'];
  const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
  return [tsxCli, 'watch', '--clear-screen=false', 'src/main.ts'];
}

/** 8080 when free, else --keycloak-port, else any free port, said out loud. */
async function keycloakPort(): Promise<number> {
  if (args['keycloak-port']) return Number(args['keycloak-port']);
  if (await canListen('127.0.0.1', preferredKeycloakPort)) return preferredKeycloakPort;
  const port = await freePort();
  say(
    `port ${preferredKeycloakPort} is in use (a Keycloak left running? \`npm run keycloak -- status\`); ` +
      `starting Keycloak on port ${port} instead`,
  );
  return port;
}

async function canListen(host: string, port: number): Promise<boolean> {
  if (port === 0) return true;
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function waitForService(healthUrl: string): Promise<void> {
  while (!shutdown.signal.aborted) {
    try {
      if ((await fetch(healthUrl, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
}

/**
 * Swagger UI and the console log in through the realm's docs and console clients, whose redirect
 * URIs name port 3000. On another port, add that port's redirect URIs through the admin API with
 * the bootstrap admin (a development Keycloak only; a Keycloak of KEYCLOAK_URL may refuse, then
 * say what to add).
 */
async function allowLogin(
  keycloakUrl: string,
  clientId: string,
  page: string,
  path: string,
  config: Config,
): Promise<void> {
  const wanted = ['localhost', '127.0.0.1'].map((host) => `http://${host}:${config.port}${path}`);
  try {
    const admin = new KeycloakAdminClient({ baseUrl: keycloakUrl, realmName: 'master' });
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', ...bootstrapAdmin });
    admin.setConfig({ realmName });
    const [client] = await admin.clients.find({ clientId });
    if (!client?.id) throw new Error(`no client ${clientId} in realm ${realmName}`);
    const redirectUris = client.redirectUris ?? [];
    const missing = wanted.filter((uri) => !redirectUris.includes(uri));
    if (missing.length === 0) return;
    await admin.clients.update({ id: client.id }, { ...client, redirectUris: [...redirectUris, ...missing] });
    say(`${page} login: ${clientId} now accepts ${missing.join(' and ')}`);
  } catch (error) {
    say(
      `${page} login may fail on port ${config.port}: could not update ${clientId} (${(error as Error).message}); ` +
        `add ${wanted.join(' and ')} to its valid redirect URIs`,
    );
  }
}
