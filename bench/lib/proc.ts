// RSS and CPU of a process, sampled from /proc/<pid>/status and /proc/<pid>/stat (Linux). For the
// bench process itself without /proc, process.memoryUsage() and process.cpuUsage().
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcReading {
  rssBytes: number;
  /** user + system CPU time since the process started */
  cpuSeconds: number;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function statusField(pid: number, field: string): number | undefined {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match?.[1] ? Number(match[1]) * 1024 : undefined;
}

export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssBytes: statusField(pid, 'VmRSS') ?? 0, cpuSeconds: ticks / ticksPerSecond() };
  } catch {
    if (pid !== process.pid) return undefined;
    const cpu = process.cpuUsage();
    return { rssBytes: process.memoryUsage().rss, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  }
}

/** The highest RSS the process ever had (VmHWM), when /proc tells. */
export function lifetimePeakRss(pid: number): number | undefined {
  try {
    return statusField(pid, 'VmHWM');
  } catch {
    return undefined;
  }
}

/** The first child process of `pid` (kc.sh starts the JVM as its child). */
export function childPid(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    const first = Number(children[0]);
    return Number.isInteger(first) && first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

export interface WindowStats {
  seconds: number;
  cpuSeconds: number;
  /** CPU time over wall time, in % of one core */
  cpuPercent: number;
  rssStartMB: number;
  rssPeakMB: number;
  rssEndMB: number;
}

interface OpenWindow {
  started: number;
  first: ProcReading;
  peak: number;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Samples one process every `intervalMs`; `begin()` ... `end()` frames a measured run. */
export class Sampler {
  readonly #windows = new Set<OpenWindow>();
  #timer: NodeJS.Timeout | undefined;
  overallPeakRss = 0;

  constructor(
    readonly pid: number,
    readonly intervalMs = 200,
  ) {}

  start(): this {
    this.#timer ??= setInterval(() => this.#sample(), this.intervalMs);
    this.#timer.unref();
    this.#sample();
    return this;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sample(): ProcReading | undefined {
    const reading = readProc(this.pid);
    if (!reading) return undefined;
    this.overallPeakRss = Math.max(this.overallPeakRss, reading.rssBytes);
    for (const window of this.#windows) window.peak = Math.max(window.peak, reading.rssBytes);
    return reading;
  }

  now(): ProcReading | undefined {
    return this.#sample();
  }

  begin(): { end(): WindowStats | undefined } {
    const first = this.#sample();
    if (!first) return { end: () => undefined };
    const window: OpenWindow = { started: performance.now(), first, peak: first.rssBytes };
    this.#windows.add(window);
    return {
      end: () => {
        this.#windows.delete(window);
        const last = this.#sample() ?? first;
        const seconds = (performance.now() - window.started) / 1000;
        const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
        return {
          seconds: Math.round(seconds * 100) / 100,
          cpuSeconds: Math.round(cpuSeconds * 100) / 100,
          cpuPercent: seconds > 0 ? Math.round((cpuSeconds / seconds) * 1000) / 10 : 0,
          rssStartMB: mb(first.rssBytes),
          rssPeakMB: mb(Math.max(window.peak, last.rssBytes)),
          rssEndMB: mb(last.rssBytes),
        };
      },
    };
  }
}

export { mb as toMB };

/** Two windows of the same process as one (e.g. the slices of one measured run). */
export function mergeWindows(
  a: WindowStats | undefined,
  b: WindowStats | undefined,
): WindowStats | undefined {
  if (!a || !b) return a ?? b;
  const seconds = a.seconds + b.seconds;
  const cpuSeconds = a.cpuSeconds + b.cpuSeconds;
  return {
    seconds: Math.round(seconds * 100) / 100,
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    cpuPercent: seconds > 0 ? Math.round((cpuSeconds / seconds) * 1000) / 10 : 0,
    rssStartMB: a.rssStartMB,
    rssPeakMB: Math.max(a.rssPeakMB, b.rssPeakMB),
    rssEndMB: b.rssEndMB,
  };
}

/** The pid of the process listening on this TCP port (a reused Keycloak's JVM), if `ss` can tell. */
export function listeningPid(port: string): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}
