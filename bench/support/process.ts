import { readFileSync } from 'node:fs';

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
