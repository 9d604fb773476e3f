// Child processes for the tests of the entry point and the dev script: started in their own
// process group, their output collected, and every group they leave behind found through /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Started {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

export function startProcess(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Started {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group, as a terminal gives a command: the test signals the whole group
    detached: true,
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  if (child.pid === undefined) throw new Error(`could not start ${args.join(' ')}`);
  return { child, pid: child.pid, output: () => chunks.join(''), exited };
}

/** Waits until the output matches; fails with the output so far when it does not in time. */
export async function waitForOutput(
  started: Started,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(started.output());
    if (match) return match;
    if (started.child.exitCode !== null || started.child.signalCode !== null)
      throw new Error(`process ended before ${pattern}; output:\n${started.output()}`);
    if (Date.now() > deadline)
      throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${started.output()}`);
    await sleep(200);
  }
}

/** Resolves with the exit code, or fails after timeoutMs. */
export async function exitWithin(started: Started, timeoutMs: number): Promise<number | string> {
  const result = await Promise.race([started.exited, sleep(timeoutMs, 'still running')]);
  if (result === 'still running')
    throw new Error(`still running after ${timeoutMs} ms:\n${started.output()}`);
  return result;
}

/** Live (not zombie) processes of a process group, from /proc. */
export function livingMembers(processGroup: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its closing parenthesis
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === processGroup && state !== 'Z') members.push(Number(name));
  }
  return members;
}

/** Waits until a process group has no living member; returns those still alive after timeoutMs. */
export async function groupGone(processGroup: number, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = livingMembers(processGroup);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(200);
    alive = livingMembers(processGroup);
  }
  return alive;
}

/** SIGKILL to a process group when a test failed half-way; nothing of the test outlives it. */
export function killGroup(processGroup: number | undefined): void {
  if (processGroup === undefined) return;
  try {
    process.kill(-processGroup, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The process group of a running process, from /proc. */
export function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}
