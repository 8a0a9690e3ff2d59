import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** What the figures were measured on. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  os: string;
  date: string;
  postgres: string | null;
  /** See cpuProbeMs(); absent in results written before it existed. */
  cpuProbeMs?: number;
}

export function machineInfo(postgresVersion: string | null): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() || 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    os: osRelease(),
    date: new Date().toISOString(),
    postgres: postgresVersion,
    cpuProbeMs: cpuProbeMs(),
  };
}

/**
 * How fast this machine's CPU is right now, in a form that compares across runs: the best of three
 * timings of 200,000 JSON round trips of a small object in a plain loop (the kind of work the
 * service does per item). The same code measured the same day on these shared machines has varied
 * by about 2× (the naive baseline too), so figures of runs far apart compare only with this beside them.
 */
export function cpuProbeMs(): number {
  const o = { a: 1, b: 'x'.repeat(200), c: [1, 2, 3, 4, 5], d: { e: 'f', g: [{ h: 1 }, { i: 2 }] } };
  let best = Infinity;
  let sink = 0;
  for (let run = 0; run < 3; run++) {
    const t = performance.now();
    for (let i = 0; i < 200_000; i++) sink += (JSON.parse(JSON.stringify(o)) as typeof o).c.length;
    best = Math.min(best, performance.now() - t);
  }
  if (sink < 0) throw new Error('unreachable');
  return Math.round(best);
}

function osRelease(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** 1-, 5- and 15-minute load averages, e.g. "3.52 / 2.90 / 2.10". */
export function loadavg(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

/** Peak resident set size (VmHWM) and current RSS of a process, in MiB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { peakRssMiB: number | null; rssMiB: number | null } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
    };
    return { peakRssMiB: kib('VmHWM'), rssMiB: kib('VmRSS') };
  } catch {
    return { peakRssMiB: null, rssMiB: null };
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine spent busy (not idle/iowait) so far, from /proc/stat. */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = v;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / 100;
  } catch {
    return null;
  }
}
