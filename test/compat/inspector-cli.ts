// The MCP Inspector's CLI mode (`mcp-inspector --cli`, npm @modelcontextprotocol/inspector), run as a
// person runs it in a terminal: its home (OAuth store, secrets file) in a temp dir, the "Please navigate
// to:" URL it prints when a login is needed read from stderr, its result read from stdout as JSON.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js', import.meta.url));

export interface InspectorRun {
  /** Resolves with the URL the CLI asked the person to open, if it asks for a login. */
  authorizationUrl: Promise<string>;
  /** Resolves when the process ends. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** One home per person: the runs in it share the OAuth store (registration and tokens), as one person’s runs do. */
export class InspectorCli {
  private constructor(readonly home: string) {}

  static async create(): Promise<InspectorCli> {
    return new InspectorCli(await mkdtemp(join(tmpdir(), 'inspector-cli-')));
  }

  /**
   * Starts `mcp-inspector --cli <args> --format json`. Without a TTY the CLI refuses an interactive login
   * unless MCP_AUTO_OPEN_ENABLED=true; then it prints the URL and hands it to `open` (xdg-open, which
   * runs $BROWSER when no desktop is running): here `true`, so the test's Chromium is the browser.
   */
  run(args: string[], timeoutMs = 60_000): InspectorRun {
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [INSPECTOR, '--cli', ...args, '--format', 'json'], {
      env: {
        PATH: process.env.PATH ?? '', HOME: this.home, MCP_AUTO_OPEN_ENABLED: 'true', BROWSER: 'true', NO_COLOR: '1',
        // No keychain on a CI machine: tokens go to a file under HOME, so later runs find them.
        MCP_INSPECTOR_SECRET_STORE: 'file',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    let announce: (url: string) => void = () => {};
    const authorizationUrl = new Promise<string>((resolve) => { announce = resolve; });
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const asked = /Please navigate to: (\S+)/.exec(stderr);
      if (asked) announce(asked[1]!);
    });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    return { authorizationUrl, done };
  }

  async close(): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
  }
}
