// The hostile values the sweep sends (fast-check arbitraries), each with how it is spelled in a query
// string or form body and in a JSON body, and whether the database could store it at all.
import fc from 'fast-check';

export interface HostileValue {
  label: string;
  /** Already percent-encoded, as it goes into a query string, form body or path segment. */
  encoded: string;
  /** The JSON value's bytes, as they go into a JSON body (may be invalid UTF-8 on purpose). */
  json: Buffer;
  /**
   * NUL, a lone surrogate, bytes that are not UTF-8: must be refused before anything is written, wherever
   * they are. 'json': only as JSON structure (deep nesting), which in a query or form is just a string.
   */
  unstorable: boolean | 'json';
  /** Repeat the parameter (an array where a string is expected) in a query or form. */
  repeated?: boolean;
}

/** Percent-encodes every code unit as (W)TF-8, so a lone surrogate becomes the bytes ED A0 80 a browser would never send. */
export function percentEncodeUnits(text: string): string {
  let out = '';
  for (const char of text) {
    const point = char.codePointAt(0)!;
    if (/[A-Za-z0-9_.~-]/.test(char)) { out += char; continue; }
    const bytes = point < 0x80 ? [point]
      : point < 0x800 ? [0xc0 | (point >> 6), 0x80 | (point & 63)]
        : point < 0x10000 ? [0xe0 | (point >> 12), 0x80 | ((point >> 6) & 63), 0x80 | (point & 63)]
          : [0xf0 | (point >> 18), 0x80 | ((point >> 12) & 63), 0x80 | ((point >> 6) & 63), 0x80 | (point & 63)];
    out += bytes.map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDFFF]/u;

/** A JS string value: percent-encoded as its code units, JSON-encoded by JSON.stringify (which escapes lone surrogates). */
const text = (label: string, value: string): HostileValue => ({
  label, encoded: percentEncodeUnits(value), json: Buffer.from(JSON.stringify(value)), unstorable: UNSTORABLE_TEXT.test(value),
});
/** Raw bytes in both spellings (an invalid percent-encoding, the same bytes inside a JSON string). */
const rawBytes = (label: string, encoded: string, bytes: number[]): HostileValue => ({
  label, encoded, json: Buffer.concat([Buffer.from('"a'), Buffer.from(bytes), Buffer.from('b"')]), unstorable: true,
});
const jsonText = (label: string, json: string, encoded = encodeURIComponent(json), unstorable: boolean | 'json' = false): HostileValue => ({
  label, encoded, json: Buffer.from(json), unstorable,
});

const deepJson = fc.integer({ min: 40, max: 4000 }).map((depth): HostileValue =>
  // In a JSON body this is structure (refused); in a query or form it is only a string of brackets.
  jsonText(`JSON nested ${depth} deep`, `${'['.repeat(depth)}${']'.repeat(depth)}`, '%5B'.repeat(depth), 'json'));
const deepJsonObject = fc.integer({ min: 40, max: 2000 }).map((depth): HostileValue =>
  jsonText(`JSON object nested ${depth} deep`, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, encodeURIComponent('{"a":'.repeat(depth)), 'json'));

// Any UTF-16 code units, lone surrogates and NUL included.
const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), minLength: 1, maxLength: 12 });

/** fast-check prints a counterexample by its label, not its (possibly 70 kB) bytes. */
const labelled = (value: HostileValue): HostileValue => Object.assign(value, { [fc.toStringMethod]: () => value.label });

export const hostileValue: fc.Arbitrary<HostileValue> = fc.oneof(
  fc.constantFrom(
    text('NUL', 'a\u0000b'),
    text('a lone NUL', '\u0000'),
    text('a lone high surrogate', 'x\uD800'),
    text('a lone low surrogate', '\uDFFFy'),
    text('reversed surrogates', '\uDE00\uD83D'),
    rawBytes('an overlong encoding %C0%AF', '%C0%AF', [0xc0, 0xaf]),
    rawBytes('the byte %FF', '%FF', [0xff]),
    rawBytes('an encoded surrogate %ED%A0%80', '%ED%A0%80', [0xed, 0xa0, 0x80]),
    rawBytes('a truncated sequence %E2%82', '%E2%82', [0xe2, 0x82]),
    { ...rawBytes('a broken escape %zz', '%zz', [0xfe]), label: 'a broken escape %zz / byte FE' },
    text('year 0', '0000-01-01T00:00:00Z'),
    text('year 10000', '+010000-01-01T00:00:00Z'),
    text('a year beyond JS dates', '+275761-01-01'),
    text('a month 13', '2026-13-45'),
    jsonText('a huge number', '123456789012345678901234567890123456789'),
    jsonText('a number beyond double', '1e400'),
    jsonText('a negative beyond double', '-1e400'),
    jsonText('an array of strings', '["a","b"]', 'a', false),
    jsonText('an object', '{"a":{"b":1}}'),
    jsonText('null', 'null'),
    jsonText('true', 'true'),
  ),
  fc.constant(null).map(() => ({ ...jsonText('an array (repeated parameter)', '["x","y"]', 'x'), repeated: true })),
  fc.integer({ min: 3000, max: 70000 }).map((length) => text(`a string of ${length}`, 'x'.repeat(length))),
  deepJson,
  deepJsonObject,
  codeUnits.map((value) => text(`code units ${JSON.stringify(value)}`, value)),
).map(labelled);
