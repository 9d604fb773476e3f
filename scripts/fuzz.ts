// npm run fuzz [-- --max-time SECONDS] [-- --seed N]: schemathesis against the service and a real
// Keycloak. Every check, every phase (examples, coverage, fuzzing, stateful), bounded in time:
// no server error, no undocumented status or header, no answer that breaks its schema, no
// schema-valid request refused except for the domain rules in fuzz/expected-refusals.yaml.
//
// 1. the Python environment: fuzz/setup-venv.sh (schemathesis pinned in fuzz/requirements.txt, in
//    a virtual environment outside the repository; a no-op once it is there);
// 2. Keycloak: KEYCLOAK_URL when set, otherwise the local distribution on free loopback ports;
// 3. the service (buildApp) on a free loopback port, as the tests configure it;
// 4. raises the limit of the fuzz accounts (fuzz/hooks.py steers schema-valid requests there);
// 5. schemathesis, with fuzz/schemathesis.toml and fuzz/hooks.py, killed at the time bound; its
//    console output goes to .cache/fuzz/schemathesis-<time>.log, not to this script's: its closing
//    line is pytest's (`=== 1 warning in 180.35s ===`), which a reader of the CI log takes for "no
//    tests ran". On success this script prints `fuzz: N passed, N failed` from the JUnit report
//    instead, and the expected-refusals table; on failure, the log's last lines and its path;
// 6. removes the clients the run created, stops the service and the Keycloak it started (also on
//    Ctrl-C or a failure). The exit code is schemathesis's: non-zero on any finding.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { DEVELOPMENT_CLIENT_SECRET, loadConfig } from '../src/config.js';
import { countJUnit, passedOf } from './lib/junit.js';
import {
  InterruptedError,
  MissingPrerequisiteError,
  projectRoot,
  type RunningKeycloak,
  realmName,
  startLocalKeycloak,
  waitForRealm,
} from './lib/keycloak-local.js';
import { fail, killChildGroup, sayer } from './lib/process.js';

const fuzzAccounts = ['fuzz-a', 'fuzz-b'];
const limitsAccount = 'fuzz-limits';
const fuzzDir = join(projectRoot, 'fuzz');
// schemathesis keeps its report and crash cache (`st replay`) in its working folder: git-ignored
const workDir = join(projectRoot, '.cache', 'fuzz');
/** How much of schemathesis' log a failed run prints: its findings and its closing lines. */
const failureTailLines = 80;

const { values: args } = parseArgs({
  options: {
    // the whole schemathesis run; it is killed 60 s after this if it has not stopped by itself
    'max-time': { type: 'string', default: process.env.FUZZ_MAX_TIME ?? '180' },
    seed: { type: 'string', default: process.env.FUZZ_SEED },
  },
});
const maxTimeSeconds = Number(args['max-time']);
if (!Number.isInteger(maxTimeSeconds) || maxTimeSeconds < 10)
  fail('--max-time: a whole number of seconds, 10 or more');

let keycloak: RunningKeycloak | undefined;
let app: FastifyInstance | undefined;
let fuzzer: ChildProcess | undefined;
const shutdown = new AbortController();
const say = sayer('fuzz');

async function stopAll(): Promise<void> {
  killChildGroup(fuzzer, 'SIGKILL');
  await app?.close();
  await keycloak?.stop();
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (shutdown.signal.aborted) {
      killChildGroup(fuzzer, 'SIGKILL');
      keycloak?.kill();
      process.exit(1);
    }
    say(`${signal}: stopping schemathesis, the service and Keycloak`);
    shutdown.abort(new InterruptedError(signal));
    stopAll().finally(() => process.exit(1));
  });
}
process.on('exit', () => {
  killChildGroup(fuzzer, 'SIGKILL');
  keycloak?.kill();
});

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof MissingPrerequisiteError || error instanceof InterruptedError) {
    process.stderr.write(`\n${error.message}\n\n`);
    process.exitCode = 1;
  } else throw error;
} finally {
  if (!shutdown.signal.aborted) await stopAll();
}

async function main(): Promise<number> {
  const venv = setUpVenv();

  let keycloakUrl = process.env.KEYCLOAK_URL;
  if (keycloakUrl) {
    say(`using KEYCLOAK_URL=${keycloakUrl}`);
    await waitForRealm(keycloakUrl);
  } else {
    keycloak = await startLocalKeycloak({
      signal: shutdown.signal,
      onSpawn: (started) => {
        keycloak = started;
      },
    });
    keycloakUrl = keycloak.url;
  }
  const tokenUrl = `${keycloakUrl}/realms/${realmName}/protocol/openid-connect/token`;

  app = await buildApp(
    loadConfig({
      KEYCLOAK_URL: keycloakUrl,
      KEYCLOAK_CLIENT_SECRET: DEVELOPMENT_CLIENT_SECRET,
      API_CLIENTS_DEV_MODE: 'true',
      // errors only: a 500 leaves its cause here, next to schemathesis's report of it
      LOG_LEVEL: 'error',
      // one caller sends thousands of requests, many refused on purpose; the rate limits and
      // load shedding have their own tests
      RATE_LIMIT_MAX: '1000000',
      REFUSED_RATE_LIMIT_MAX: '1000000',
      LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      // a federated issuer is fetched by Keycloak when a client names it: no generated issuer may
      // send Keycloak off this machine (the run's traffic stays on loopback), so the only accepted
      // issuer origin is one that no generated value is, and nothing listens on
      FEDERATED_ISSUER_ORIGINS: 'http://127.0.0.1:9',
      // the run writes hundreds of changes to one client, and a history request with a large
      // `first` reads admin events up to this bound (with their representations): at the default
      // 2000 one took 22.9 s on a busy 2-core machine, past schemathesis' 20 s response limit
      HISTORY_MAX_EVENTS: '400',
    }),
  );
  const serviceUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  say(`service at ${serviceUrl}`);

  const token = await platformAdminToken(tokenUrl);
  for (const accountId of fuzzAccounts) await setLimit(serviceUrl, token, accountId, 10_000);

  try {
    return await runSchemathesis(venv, serviceUrl, tokenUrl);
  } finally {
    if (!shutdown.signal.aborted) await removeFuzzClients(serviceUrl, await platformAdminToken(tokenUrl));
  }
}

function setUpVenv(): string {
  const setup = spawnSync('bash', [join(fuzzDir, 'setup-venv.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (setup.status !== 0)
    throw new MissingPrerequisiteError('fuzz: the Python environment could not be set up');
  return setup.stdout.toString().trim();
}

async function runSchemathesis(venv: string, serviceUrl: string, tokenUrl: string): Promise<number> {
  mkdirSync(workDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logPath = join(workDir, `schemathesis-${stamp}.log`);
  const junitPath = join(workDir, `junit-${stamp}.xml`);
  const refusalsPath = join(workDir, `refusals-${stamp}.txt`);
  const command = [
    '--config-file',
    join(fuzzDir, 'schemathesis.toml'),
    'run',
    `${serviceUrl}/openapi.json`,
    '--url',
    serviceUrl,
    '--max-time',
    String(maxTimeSeconds),
    '--report',
    'junit',
    '--report-junit-path',
    junitPath,
    ...(args.seed ? ['--seed', args.seed] : []),
  ];
  say(`schemathesis ${command.join(' ')} (its output: ${logPath})`);
  const started = Date.now();
  const log = openSync(logPath, 'w');
  const child = spawn(join(venv, 'bin', 'schemathesis'), command, {
    // its own process group: the time bound and Ctrl-C end it and anything it started
    detached: true,
    cwd: workDir,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      SCHEMATHESIS_HOOKS: join(fuzzDir, 'hooks.py'),
      FUZZ_TOKEN_URL: tokenUrl,
      FUZZ_ACCOUNTS: fuzzAccounts.join(','),
      FUZZ_LIMITS_ACCOUNT: limitsAccount,
      FUZZ_REFUSALS_FILE: refusalsPath,
    },
  });
  closeSync(log);
  fuzzer = child;
  const bound = setTimeout(
    () => {
      say(`schemathesis still running ${maxTimeSeconds + 60} s after it started: killing it`);
      killChildGroup(child, 'SIGKILL');
    },
    (maxTimeSeconds + 60) * 1000,
  );
  const code = await new Promise<number>((resolve) =>
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))),
  );
  clearTimeout(bound);
  say(`schemathesis exited with ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (existsSync(refusalsPath)) process.stderr.write(readFileSync(refusalsPath, 'utf8'));
  if (code !== 0) {
    const lines = readFileSync(logPath, 'utf8').trimEnd().split('\n');
    process.stderr.write(`${lines.slice(-failureTailLines).join('\n')}\n`);
    say(
      `schemathesis failed: the last ${failureTailLines} lines of its output above, all of it in ${logPath}`,
    );
    return code;
  }
  if (!existsSync(junitPath)) {
    say(`schemathesis wrote no JUnit report (${junitPath}); its output: ${logPath}`);
    return 1;
  }
  const counts = countJUnit(readFileSync(junitPath, 'utf8'));
  console.log(`fuzz: ${passedOf(counts)} passed, ${counts.failed} failed`);
  return counts.failed > 0 || counts.tests === 0 ? 1 : 0;
}

async function platformAdminToken(tokenUrl: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'api-clients-cli',
      username: 'paula',
      password: 'paula',
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token for paula: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

async function call(
  serviceUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${serviceUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

async function setLimit(
  serviceUrl: string,
  token: string,
  accountId: string,
  maxApiClients: number | null,
): Promise<void> {
  await call(serviceUrl, token, 'PUT', `/v1/accounts/${accountId}/limits`, { maxApiClients });
}

/** Leaves a Keycloak given by KEYCLOAK_URL as it found it: no fuzz clients, default limits. */
async function removeFuzzClients(serviceUrl: string, token: string): Promise<void> {
  let removed = 0;
  for (const accountId of [...fuzzAccounts, limitsAccount]) {
    for (;;) {
      const page = (await call(
        serviceUrl,
        token,
        'GET',
        `/v1/accounts/${accountId}/api-clients?max=100`,
      )) as {
        items: { clientId: string }[];
      };
      if (page.items.length === 0) break;
      await call(serviceUrl, token, 'POST', `/v1/accounts/${accountId}/api-clients/bulk-delete`, {
        clientIds: page.items.map((item) => item.clientId),
      });
      removed += page.items.length;
    }
    await setLimit(serviceUrl, token, accountId, null);
  }
  say(`removed the run's ${removed} clients`);
}
