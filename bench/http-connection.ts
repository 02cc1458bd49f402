// One keep-alive HTTP/1.1 connection over a raw socket, one request at a time: the load generator's
// client. Cheaper per request than node:http, so the generator is not what limits a fast yardstick.
import { connect, type Socket } from 'node:net';

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers (set-cookie) joined into an array. */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const REQUEST_TIMEOUT_MS = 15_000;
const CRLF = Buffer.from('\r\n');

export const header = (response: HttpResponse, name: string): string | undefined => {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export class HttpConnection {
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: HttpResponse) => void; reject: (e: Error) => void } | undefined;
  private closeAfter = false;

  constructor(readonly host: string, readonly port: number) {}

  /** The Host header every request carries: oidc-provider builds its URLs from it. */
  get authority(): string {
    return `${this.host}:${this.port}`;
  }

  request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<HttpResponse> {
    if (this.pending) return Promise.reject(new Error('one request at a time per connection'));
    const socket = this.open();
    const payload = body === undefined ? undefined : Buffer.from(body);
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.authority}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    if (payload) head += `Content-Length: ${payload.length}\r\n`;
    head += '\r\n';
    return new Promise<HttpResponse>((resolve, reject) => {
      this.pending = { resolve, reject };
      socket.write(payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : Buffer.from(head, 'latin1'));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    if (this.socket && !this.closeAfter) return this.socket;
    this.socket?.destroy();
    this.closeAfter = false;
    this.buffer = Buffer.alloc(0);
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.parse();
    });
    const fail = (error: Error) => {
      // A socket replaced after a `Connection: close` says nothing about the current request.
      if (this.socket !== socket) return;
      this.socket = undefined;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    socket.on('error', fail);
    // A server that stops answering fails the request instead of hanging the bench.
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
      if (this.pending) socket.destroy(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`));
    });
    socket.on('close', () => fail(new Error('connection closed before the response')));
    this.socket = socket;
    return socket;
  }

  private parse(): void {
    const end = this.buffer.indexOf(HEADER_END);
    if (end < 0 || !this.pending) return;
    const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0]?.slice(9, 12));
    const headers: Record<string, string | string[]> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const existing = headers[name];
      headers[name] = existing === undefined ? (name === 'set-cookie' ? [value] : value)
        : [existing, value].flat();
    }
    const start = end + HEADER_END.length;
    let body: Buffer;
    let consumed: number;
    const length = headers['content-length'];
    if (typeof length === 'string') {
      const size = Number(length);
      if (this.buffer.length < start + size) return;
      body = this.buffer.subarray(start, start + size);
      consumed = start + size;
    } else if (String(headers['transfer-encoding']).toLowerCase() === 'chunked') {
      const chunked = readChunked(this.buffer, start);
      if (!chunked) return;
      ({ body, consumed } = chunked);
    } else {
      body = Buffer.alloc(0);
      consumed = start;
    }
    this.buffer = this.buffer.subarray(consumed);
    if (String(headers.connection).toLowerCase() === 'close') this.closeAfter = true;
    const pending = this.pending;
    this.pending = undefined;
    pending.resolve({ status, headers, body: Buffer.from(body) });
  }
}

function readChunked(buffer: Buffer, start: number): { body: Buffer; consumed: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
    const dataStart = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = buffer.indexOf(CRLF, dataStart);
      return trailerEnd < 0 ? undefined : { body: Buffer.concat(parts), consumed: trailerEnd + 2 };
    }
    if (buffer.length < dataStart + size + 2) return undefined;
    parts.push(buffer.subarray(dataStart, dataStart + size));
    at = dataStart + size + 2;
  }
}
