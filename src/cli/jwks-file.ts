// Reads a `--jwks FILE` option: a JSON Web Key Set the operator saved (idjag-issuer add, client add --machine).
// Only the file's size and JSON syntax are judged here; the services check what the keys are.
import { readFile } from 'node:fs/promises';
import { UsageError } from './args.ts';

const MAX_JWKS_FILE = 256 * 1024;

export async function readJwksFile(path: string): Promise<unknown> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (error) {
    throw new UsageError(`cannot read --jwks ${path}: ${(error as Error).message}`);
  }
  if (text.length > MAX_JWKS_FILE) throw new UsageError(`--jwks ${path} is larger than ${MAX_JWKS_FILE} bytes`);
  try { return JSON.parse(text); } catch { throw new UsageError(`--jwks ${path} is not JSON`); }
}
