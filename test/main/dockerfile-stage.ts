// Lays out the Dockerfile's stages in temporary directories, as `docker build` would, from the Dockerfile
// as written: COPY lines, RUN lines (the build, the production install), then the runtime stage's ENV,
// CMD and HEALTHCHECK. No Docker engine here. One substitution: a full `npm ci` (the build stage's) links
// this checkout's installed node_modules instead, the same lockfile's packages, without a second install.
// The runtime stage's own RUN (making /data as root) and USER are left to the caller: it runs the image's
// command as the test's user on a fresh DATA_DIR of its own.
import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';

/** One instruction, with the WORKDIR in force where it stands. */
interface Instruction { keyword: string; args: string; workdir: string }
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
    stage.instructions.push({ keyword, args, workdir: stage.workdir });
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

/**
 * node_modules for a stage from this checkout's: a link per package, except the workspace links
 * (`@portcullis/resource-server` → ../../packages/resource-server), made again with the same relative
 * target so they reach the stage's own copy of the workspace package.
 */
function linkInstalledNodeModules(context: string, stageWorkdir: string): void {
  const link = (from: string, to: string) => {
    const source = join(context, 'node_modules', from);
    if (lstatSync(source).isSymbolicLink() && readlinkSync(source).startsWith('../')) symlinkSync(readlinkSync(source), to);
    else symlinkSync(source, to);
  };
  const target = join(stageWorkdir, 'node_modules');
  mkdirSync(target);
  for (const entry of readdirSync(join(context, 'node_modules'))) {
    if (!entry.startsWith('@')) { link(entry, join(target, entry)); continue; }
    mkdirSync(join(target, entry));
    for (const scoped of readdirSync(join(context, 'node_modules', entry))) link(join(entry, scoped), join(target, entry, scoped));
  }
}

/** Lays out every stage; `context` is the repository root (the build context). */
export function stageImage(context: string, env: Record<string, string>): StagedImage {
  const stages = readStages(join(context, 'Dockerfile'));
  const runtime = stages.at(-1)!;
  const stageDirs = new Map<string, string>();
  const sourcePath = (from: string | undefined, source: string): string => {
    if (from === undefined) return join(context, source);
    const stageDir = stageDirs.get(from);
    if (!stageDir) throw new Error(`COPY --from=${from}: no such stage before the runtime stage`);
    return join(stageDir, source);
  };
  for (const stage of stages.slice(0, -1)) {
    const stageDir = mkdtempSync(join(tmpdir(), `pc-image-${stage.name}-`));
    if (stage.name) stageDirs.set(stage.name, stageDir);
    for (const { keyword, args, workdir: inStage } of stage.instructions) {
      const workdir = join(stageDir, inStage);
      if (keyword === 'COPY') copy(args, sourcePath, stageDir, inStage);
      if (keyword !== 'RUN') continue;
      if (/^npm ci\b/.test(args) && !args.includes('--omit=dev')) {
        linkInstalledNodeModules(context, workdir);
        continue;
      }
      // npm_config_prefer_offline: this machine's npm cache first (a docker build starts with an empty one).
      execFileSync('sh', ['-c', args], { cwd: workdir, env: { ...env, npm_config_prefer_offline: 'true' }, stdio: 'pipe' });
    }
  }
  const imageDir = mkdtempSync(join(tmpdir(), 'pc-image-'));
  const cleanup = () => { for (const dir of [imageDir, ...stageDirs.values()]) rmSync(dir, { recursive: true, force: true }); };
  const image: StagedImage = { appDir: join(imageDir, runtime.workdir), env: {}, command: [], healthcheck: [], cleanup };
  for (const { keyword, args, workdir } of runtime.instructions) {
    if (keyword === 'COPY') copy(args, sourcePath, imageDir, workdir);
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
