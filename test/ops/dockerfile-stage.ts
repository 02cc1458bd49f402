// Lays out the Dockerfile's runtime stage in a temporary directory, as `docker build` would, from the
// Dockerfile as written: its COPY lines, the `deps` stage's RUN (the production install), ENV, CMD and
// HEALTHCHECK. No Docker engine here; the `build` stage is this checkout after `npm run build`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';

interface Instruction { keyword: string; args: string }
interface Stage { name: string | undefined; workdir: string; instructions: Instruction[] }

export interface StagedImage {
  /** The image's WORKDIR, laid out: run CMD with this as the working directory. */
  appDir: string;
  /** The runtime stage's ENV. */
  env: Record<string, string>;
  /** CMD, exec form. */
  command: string[];
  /** HEALTHCHECK's CMD, exec form. */
  healthcheck: string[];
  /** Removes every directory laid out. */
  cleanup(): void;
}

function readStages(dockerfile: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of readFileSync(dockerfile, 'utf8').split('\n')) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    if (text.endsWith('\\')) throw new Error(`keep Dockerfile instructions on one line: ${text}`);
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(text) ?? [];
    if (keyword === 'FROM') {
      stages.push({ name: /\sAS\s+(\S+)$/i.exec(args)?.[1], workdir: '/', instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before FROM`);
    if (keyword === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, args);
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

const execForm = (args: string): string[] => {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`not exec form: ${args}`);
  return parsed;
};

/** `COPY [--from=stage] src… dest`, with Docker's rules: a directory's contents, or into a dest/ directory. */
function copy(args: string, sourcePath: (from: string | undefined, source: string) => string, stageDir: string, workdir: string): void {
  const words = args.split(/\s+/);
  const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
  const dest = words.pop()!;
  const target = join(stageDir, posix.resolve(workdir, dest));
  for (const source of words) {
    const path = sourcePath(from, source);
    const intoDirectory = dest.endsWith('/') || words.length > 1;
    const to = intoDirectory && !statSync(path).isDirectory() ? join(target, basename(path)) : target;
    mkdirSync(intoDirectory ? target : join(target, '..'), { recursive: true });
    cpSync(path, to, { recursive: true, verbatimSymlinks: true });
  }
}

/** Runs the Dockerfile's stages that the runtime stage copies from; `context` is the repository root. */
export function stageImage(context: string, env: Record<string, string>): StagedImage {
  const stages = readStages(join(context, 'Dockerfile'));
  const runtime = stages.at(-1)!;
  const build = stages.find((stage) => stage.name === 'build');
  const stageDirs = new Map<string, string>();
  const sourcePath = (from: string | undefined, source: string): string => {
    if (from === undefined) return join(context, source);
    // The build stage's WORKDIR is this checkout, built.
    if (from === 'build' && build) return join(context, posix.relative(build.workdir, source));
    const stageDir = stageDirs.get(from);
    if (!stageDir) throw new Error(`COPY --from=${from}: no such stage before the runtime stage`);
    return join(stageDir, source);
  };
  for (const stage of stages.slice(0, -1)) {
    if (stage === build) continue;
    const stageDir = mkdtempSync(join(tmpdir(), `pc-image-${stage.name}-`));
    for (const { keyword, args } of stage.instructions) {
      if (keyword === 'COPY') copy(args, sourcePath, stageDir, stage.workdir);
      // npm_config_prefer_offline: this machine's npm cache first (a docker build starts with an empty one).
      if (keyword === 'RUN') execFileSync('sh', ['-c', args], { cwd: join(stageDir, stage.workdir), env: { ...env, npm_config_prefer_offline: 'true' }, stdio: 'pipe' });
    }
    if (stage.name) stageDirs.set(stage.name, stageDir);
  }
  const imageDir = mkdtempSync(join(tmpdir(), 'pc-image-'));
  const cleanup = () => { for (const dir of [imageDir, ...stageDirs.values()]) rmSync(dir, { recursive: true, force: true }); };
  const image: StagedImage = { appDir: join(imageDir, runtime.workdir), env: {}, command: [], healthcheck: [], cleanup };
  for (const { keyword, args } of runtime.instructions) {
    if (keyword === 'COPY') copy(args, sourcePath, imageDir, runtime.workdir);
    if (keyword === 'ENV') {
      for (const pair of args.split(/\s+/)) {
        const [name, value] = pair.split('=') as [string, string];
        image.env[name] = value;
      }
    }
    if (keyword === 'CMD') image.command = execForm(args);
    if (keyword === 'HEALTHCHECK') image.healthcheck = execForm(args.slice(args.indexOf('CMD') + 'CMD'.length).trim());
  }
  return image;
}
