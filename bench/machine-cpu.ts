// Where the machine's CPU went during a round, from /proc (Linux; elsewhere nothing is reported):
// all cores together, and PostgreSQL's processes, so a reader sees who was busy besides the server.
import { readdirSync, readFileSync } from 'node:fs';

export interface MachineSample {
  /** Clock ticks over all cores since boot: total and not idle. */
  total: number;
  busy: number;
  /** Ticks used by processes named postgres* (backends, WAL writer …) that are alive now. */
  postgres: number;
  cores: number;
}

export function sampleMachine(): MachineSample | undefined {
  try {
    const cpuLines = readFileSync('/proc/stat', 'utf8').split('\n').filter((line) => line.startsWith('cpu'));
    const fields = (cpuLines[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    let postgres = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
        const rest = stat.slice(close + 2).split(' ');
        postgres += Number(rest[11]) + Number(rest[12]);
      } catch {
        // The process ended while we listed it.
      }
    }
    return { total, busy: total - idle, postgres, cores: cpuLines.length - 1 };
  } catch {
    return undefined;
  }
}

/** Percent of one core: the whole machine (out of cores × 100) and PostgreSQL, between two samples. */
export function machineShare(before: MachineSample | undefined, after: MachineSample | undefined) {
  if (!before || !after || after.total <= before.total) return undefined;
  const perCore = (after.total - before.total) / after.cores;
  return {
    machinePct: ((after.busy - before.busy) / perCore) * 100,
    postgresPct: (Math.max(0, after.postgres - before.postgres) / perCore) * 100,
    capacityPct: after.cores * 100,
  };
}
