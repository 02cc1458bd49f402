// mcp-remote (npm), the stdio proxy many desktop MCP hosts run, driven as such a host drives it:
// JSON-RPC lines on stdin/stdout, its OAuth state in a temp dir, its "browser" a script that records URLs.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MCP_REMOTE = fileURLToPath(new URL('../../node_modules/mcp-remote/dist/proxy.js', import.meta.url));

export interface JsonRpcAnswer { id: number; result?: Record<string, unknown>; error?: { code: number; message: string } }

/** What mcp-remote keeps in `<config dir>/mcp-remote-v1/<hash>_tokens.json`. */
export interface StoredTokens { access_token: string; refresh_token?: string; scope?: string; expires_in?: number; expires_at?: number }

export class McpRemote {
  stderr = '';
  private stdoutBuffer = '';
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: JsonRpcAnswer) => void>();

  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly dir: string) {
    child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString('utf8'); });
    child.stdout.on('data', (chunk: Buffer) => {
      this.stdoutBuffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = this.stdoutBuffer.indexOf('\n')) !== -1) {
        const line = this.stdoutBuffer.slice(0, newline).trim();
        this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
        if (!line) continue;
        const message = JSON.parse(line) as JsonRpcAnswer;
        this.waiting.get(message.id)?.(message);
        this.waiting.delete(message.id);
      }
    });
  }

  /** Starts `mcp-remote <serverUrl> <callbackPort> --debug` with a private config dir and a recording BROWSER. */
  static async start(serverUrl: string, callbackPort: number): Promise<McpRemote> {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-remote-'));
    const browser = join(dir, 'browser.sh');
    // xdg-open hands the URL to $BROWSER when no desktop is running; the script only writes it down.
    await writeFile(browser, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${join(dir, 'opened-urls')}'\n`);
    await chmod(browser, 0o755);
    const child = spawn(process.execPath, [MCP_REMOTE, serverUrl, String(callbackPort), '--debug'], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, MCP_REMOTE_CONFIG_DIR: join(dir, 'config'), BROWSER: browser },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new McpRemote(child, dir);
  }

  /**
   * Sends one JSON-RPC request and resolves with its answer (which may wait for a sign-in to finish);
   * rejects with mcp-remote's last log lines when none comes within `timeoutMs`.
   */
  request(method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<JsonRpcAnswer> {
    const id = this.nextId++;
    const answered = new Promise<JsonRpcAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method} from mcp-remote; its stderr:\n${this.stderr.slice(-4000)}`)), timeoutMs);
      this.waiting.set(id, (answer) => { clearTimeout(timer); resolve(answer); });
    });
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answered;
  }

  notify(method: string): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }

  callTool(name: string, args: Record<string, unknown> = {}): Promise<JsonRpcAnswer> {
    return this.request('tools/call', { name, arguments: args });
  }

  /** Every URL mcp-remote asked the browser to open, in order. */
  async openedUrls(): Promise<string[]> {
    const text = await readFile(join(this.dir, 'opened-urls'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean);
  }

  /** Waits until mcp-remote has opened its `count`-th authorization URL and returns it. */
  async waitForOpenedUrl(count: number, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const urls = await this.openedUrls();
      if (urls.length >= count) return urls[count - 1]!;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`mcp-remote opened no authorization URL #${count}; its stderr:\n${this.stderr.slice(-4000)}`);
  }

  private async tokensFile(): Promise<string> {
    const configDir = join(this.dir, 'config', 'mcp-remote-v1');
    const name = (await readdir(configDir)).find((file) => file.endsWith('_tokens.json'));
    if (!name) throw new Error('mcp-remote has stored no tokens');
    return join(configDir, name);
  }

  async tokens(): Promise<StoredTokens> {
    return JSON.parse(await readFile(await this.tokensFile(), 'utf8')) as StoredTokens;
  }

  /**
   * Moves the stored token's expiry to `secondsLeft` from now, as the passing of time would: mcp-remote
   * reads this file before each request and refreshes a token with 60 s or less left.
   */
  async ageTokens(secondsLeft: number): Promise<void> {
    const tokens = await this.tokens();
    await writeFile(await this.tokensFile(), JSON.stringify({ ...tokens, expires_in: secondsLeft, expires_at: Date.now() + secondsLeft * 1000 }));
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
