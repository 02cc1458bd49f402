// `audit export --since ISO [--until ISO] [--type T | --tool-calls]`: the audit trail (or the tool calls kits reported,
// issue 14 §6) as JSON lines on stdout, in the order recorded, streamed page by page with stdout's backpressure.
import { once } from 'node:events';
import { exportAuditEvents } from '../audit/service.ts';
import { exportToolCalls } from '../tools/calls.ts';
import { UsageError } from './args.ts';
import { isStorableDate } from '../input/hostile-values.ts';
import type { CommandSpec } from './command.ts';

// A date (midnight UTC) or a date-time with a zone: a time without one would mean the machine's zone.
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;
const EVENT_TYPE = /^[a-z_]+\.[a-z_]+$/;

function parseInstant(option: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const time = INSTANT.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time) || !isStorableDate(new Date(time))) {
    throw new UsageError(`audit export: --${option} expects an ISO 8601 date or date-time with a zone (2025-01-31 or 2025-01-31T12:00:00Z), got ${JSON.stringify(text)}`);
  }
  return new Date(time);
}

const auditExport: CommandSpec = {
  name: 'audit export',
  usage: '--since ISO [--until ISO] [--type T | --tool-calls]',
  summary: 'print audit events from --since (inclusive) to --until (exclusive) as JSON lines, in the order they were recorded',
  options: { since: { type: 'string' }, until: { type: 'string' }, type: { type: 'string' }, 'tool-calls': { type: 'boolean' } },
  async run({ db }, args) {
    const since = parseInstant('since', args.required('since'))!;
    const until = parseInstant('until', args.string('until'));
    const type = args.string('type');
    if (until && until <= since) throw new UsageError('audit export: --until must be later than --since');
    if (type !== undefined && !EVENT_TYPE.test(type)) {
      throw new UsageError(`audit export: --type expects an event type such as login.failed, got ${JSON.stringify(type)}`);
    }
    const toolCalls = args.flag('tool-calls');
    if (toolCalls && type !== undefined) throw new UsageError('audit export: --tool-calls exports tool calls, which have no --type');
    let exported = 0;
    for await (const event of toolCalls ? exportToolCalls(db, since, until) : exportAuditEvents(db, { since, until, type })) {
      // Wait for the pipe to drain: a slow reader (| gzip, over ssh) must not make us buffer everything.
      if (!process.stdout.write(`${JSON.stringify(event)}\n`)) await once(process.stdout, 'drain');
      exported += 1;
    }
    // The count goes to stderr: stdout is the JSON lines alone, whatever --json says.
    console.error(toolCalls ? `exported ${exported} tool ${exported === 1 ? 'call' : 'calls'}` : `exported ${exported} audit ${exported === 1 ? 'event' : 'events'}`);
    return { json: {}, text: '', streamed: true };
  },
};

export const auditCommands: CommandSpec[] = [auditExport];
