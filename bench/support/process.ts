import { readFileSync, readdirSync } from 'node:fs';

/** Resident set size now and its peak so far (VmHWM), in MB, of a process on this machine. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Samples a process's RSS every `everyMs`: the highest sample so far, and at the end. */
export function sampleRss(pid: number, everyMs = 50): { peek: () => number; end: () => number } {
  let peak = memoryOf(pid).rssMb;
  const sample = (): number => (peak = Math.max(peak, memoryOf(pid).rssMb));
  const timer = setInterval(sample, everyMs);
  return {
    peek: sample,
    end: () => {
      clearInterval(timer);
      return sample();
    },
  };
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
function cpuOf(pid: number | string): number {
  try {
    // the fields after the command name, which is in parentheses and may hold spaces
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by each PostgreSQL process on this machine (the bench's cluster is the only one). */
function postgresCpu(): Map<string, number> {
  const used = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') used.set(pid, cpuOf(pid));
    } catch {
      // gone between the listing and the read
    }
  }
  return used;
}

/** What PostgreSQL used between two readings: backends that exited in between are not counted. */
function postgresSince(before: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const [pid, cpu] of postgresCpu()) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

export interface CpuSplit {
  server: number;
  postgres: number;
  /** this process: the load generator */
  client: number;
  /**
   * the whole machine's busy time (/proc/stat, every core: the kernel's network and scheduling work, which the
   * processes' own counters leave out, and anything else running), the figure a CPU-bound load is limited by
   */
  machine: number;
}

/** CPU seconds the machine has been busy so far, over every core (not idle, not waiting for I/O). */
function machineCpu(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = fields.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
  return busy / TICKS_PER_SECOND;
}

/** Starts counting CPU seconds of the server, PostgreSQL and this process; `end` gives the split since. */
export function cpuSplit(serverPid: number): { end: () => CpuSplit } {
  const before = {
    server: cpuOf(serverPid),
    postgres: postgresCpu(),
    client: process.cpuUsage(),
    machine: machineCpu(),
  };
  return {
    end: () => {
      const client = process.cpuUsage(before.client);
      return {
        server: cpuOf(serverPid) - before.server,
        postgres: postgresSince(before.postgres),
        client: (client.user + client.system) / 1e6,
        machine: machineCpu() - before.machine,
      };
    },
  };
}
