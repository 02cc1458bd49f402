// The server's Node flags live in three places: package.json's start scripts, the image's CMD, and the
// bench, which runs every process with them (bench/child-process.ts). They must say the same thing, or
// the bench would measure a server nobody runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../bench/child-process.ts';

const root = new URL('../../', import.meta.url);
const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts;
const flagsBefore = (command: string, entry: string) => {
  const words = command.split(/\s+/);
  return words.slice(1, words.indexOf(entry));
};

describe('the server\'s Node flags', () => {
  it('are the same in npm start, npm run start:prod, the image and the bench', () => {
    expect(SERVER_NODE_FLAGS.length).toBeGreaterThan(0);
    expect(flagsBefore(scripts.start!, 'src/main.ts')).toEqual(SERVER_NODE_FLAGS);
    expect(flagsBefore(scripts['start:prod']!, 'dist/main.js')).toEqual(SERVER_NODE_FLAGS);
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(new URL('Dockerfile', root), 'utf8'))?.[1];
    const image = JSON.parse(cmd ?? '[]') as string[];
    expect(image[0]).toBe('node');
    expect(image.slice(1, image.indexOf('dist/main.js'))).toEqual(SERVER_NODE_FLAGS);
  });
});
