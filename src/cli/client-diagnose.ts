// `client diagnose --id ID`: a client's recent failed authorization and token requests, what each asked,
// the OAuth error, and the usual cause with its fix (the same as the console's Diagnose page).
import { describeRequestFacts } from '../diagnostics/request-words.ts';
import { clientDiagnosisJson, diagnoseClient, type DiagnosedFailure } from '../diagnostics/service.ts';
import type { CommandSpec } from './command.ts';

const minute = (date: Date) => date.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
const ENDPOINT = { authorization: 'authorization request (/auth)', token: 'token request (/token)' } as const;

function describeFailure(failure: DiagnosedFailure, index: number): string {
  const repeated = failure.occurrences > 1 ? ` (${failure.occurrences} times since ${minute(failure.firstAt)})` : '';
  const description = failure.errorDescription ? `: ${failure.errorDescription}` : '';
  const detail = failure.errorDetail ? ` [${failure.errorDetail}]` : '';
  return [
    `${index + 1}. ${minute(failure.lastAt)}  ${ENDPOINT[failure.endpoint]}${repeated}`,
    `   error: ${failure.error}${description}${detail}`,
    `   asked: ${describeRequestFacts(failure.request).map(([name, value]) => `${name}=${value}`).join(' ') || '(nothing recognised)'}`,
    `   cause: ${failure.explanation.summary}`,
    `   fix:   ${failure.explanation.fix}`,
  ].join('\n');
}

const clientDiagnose: CommandSpec = {
  name: 'client diagnose',
  usage: '--id CLIENT_ID',
  summary: 'show the client\'s recent failed authorization and token requests, each with its usual cause and the fix',
  options: { id: { type: 'string' } },
  async run({ db }, args) {
    // An unknown id is refused by the service (client_not_found): one line on stderr, exit 1.
    const diagnosis = await diagnoseClient(db, { clientId: args.required('id') });
    const { client, failures } = diagnosis;
    const heading = `Client ${client.clientId}${client.name ? ` (${JSON.stringify(client.name)})` : ''}: ${client.source}, ${client.status}`;
    const body = failures.length === 0
      ? ['No failed authorization or token requests recorded for this client in the last 30 days.']
      : [`${failures.length} recent failure(s), most recent first (the last ${diagnosis.kept} distinct ones are kept):`, '',
        failures.map(describeFailure).join('\n\n')];
    return {
      json: clientDiagnosisJson(diagnosis),
      text: [heading, `redirect URIs: ${client.redirectUris.join(' ') || '(none)'}`, ...body].join('\n'),
    };
  },
};

export const clientDiagnoseCommands: CommandSpec[] = [clientDiagnose];
