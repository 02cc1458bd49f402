// The tool-call recorder's POST, on node:http(s) with keep-alive connections rather than fetch: a 100-record batch
// cost 460-880 µs of CPU with fetch and 210-300 µs this way on loopback (issue 17), and in the recording bench's
// profile fetch's web streams were the largest part of what recording added; a busy server sends tens a second.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

let agents: { http: HttpAgent; https: HttpsAgent } | undefined;
// Made on first use: importing the kit opens nothing. Idle sockets do not keep the process alive (Node unrefs them).
const agentsFor = () => (agents ??= { http: new HttpAgent({ keepAlive: true, maxSockets: 4 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 4 }) });

export interface PostJsonOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** The answer's status; its body is read and discarded (so the connection can be reused). */
function postOnce(url: URL, { headers, body, timeoutMs }: PostJsonOptions): Promise<{ status: number } | { error: Error; reusedSocket: boolean }> {
  return new Promise((resolve) => {
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const request = send(url, {
      method: 'POST',
      agent: https ? agentsFor().https : agentsFor().http,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      signal: AbortSignal.timeout(timeoutMs),
    }, (response: IncomingMessage) => {
      response.on('error', (error) => resolve({ error, reusedSocket: false }));
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
      response.resume();
    });
    request.on('error', (error) => resolve({ error, reusedSocket: request.reusedSocket }));
    request.end(body);
  });
}

/**
 * POSTs `body` to an http: or https: URL; resolves with the status, rejects on a network error or the timeout.
 * A kept-alive connection the server closed just as it was reused (its idle timeout, often the 5 s of the
 * recorder's own flush interval) is retried once on a new one, as Node's documentation advises: nothing was
 * taken then, and a retry spares the operator a false "not delivered" warning.
 */
export async function postJson(url: URL, options: PostJsonOptions): Promise<number> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`cannot POST to a ${url.protocol} URL`);
  let answer = await postOnce(url, options);
  if ('error' in answer && answer.reusedSocket && isConnectionReset(answer.error)) answer = await postOnce(url, options);
  if ('error' in answer) throw answer.error;
  return answer.status;
}

const isConnectionReset = (error: Error) => ['ECONNRESET', 'EPIPE'].includes((error as NodeJS.ErrnoException).code ?? '');
