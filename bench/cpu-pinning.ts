// Pins a process (all its threads: V8's and libuv's too) to some CPUs with taskset(1), so one machine can
// stand in for "one core per server process". Linux only; elsewhere pinning is reported as unavailable.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export const allCpus = () => `0-${cpus().length - 1}`;

export function canPin(): boolean {
  if (process.platform !== 'linux' || cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `list` as taskset takes it: "0", "1", "0-1". */
export function pin(pid: number, list: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}
