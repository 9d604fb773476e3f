// What the long-running scripts (npm run dev, npm run fuzz) share to talk and to clean up.
import type { ChildProcess } from 'node:child_process';

/** A line on stderr, tagged with the script's name. */
export const sayer =
  (tag: string) =>
  (message: string): void => {
    process.stderr.write(`[${tag}] ${message}\n`);
  };

/** Stops the script with a message for the person who ran it. */
export function fail(message: string): never {
  process.stderr.write(`\n${message}\n\n`);
  process.exit(1);
}

/** A signal to a whole process group, synchronously; false when it is gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The same for a child started with `detached: true`, unless it has exited already. */
export function killChildGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): boolean {
  if (!child || child.exitCode !== null || child.signalCode !== null) return false;
  return killGroup(child.pid, signal);
}
