// The predicates every front end shares (src/input/hostile-values.ts), checked against what they stand
// for: a string is refused exactly when UTF-8 cannot carry it or it holds NUL; JSON text exactly when its parse would be.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hostileJsonTextReason, hostileStringReason, hostileUrlEncodedReason, hostileValueReason, isStorableDate, MAX_JSON_DEPTH,
} from '../../src/input/hostile-values.ts';

const SEED = 1101;
const anyCodeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength: 20 });
const anyText = fc.oneof(anyCodeUnits, fc.string({ unit: 'binary', maxLength: 20 }));

describe('hostileStringReason', () => {
  it('refuses a string exactly when it holds NUL or does not survive UTF-8', () => {
    fc.assert(fc.property(anyText, (text) => {
      const storable = !text.includes('\u0000') && Buffer.from(text, 'utf8').toString('utf8') === text;
      expect(hostileStringReason(text) === undefined).toBe(storable);
    }), { seed: SEED, numRuns: 2000 });
  });
});

describe('hostileJsonTextReason', () => {
  it('agrees with a walk of the parsed value, for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), anyText, (value, text) => {
      const document = JSON.stringify({ value, text });
      expect(hostileJsonTextReason(document) === undefined).toBe(hostileValueReason(JSON.parse(document)) === undefined);
    }), { seed: SEED, numRuns: 1000 });
  });

  it.each([
    ['a pair written as escapes', '"\\ud83d\\ude00"', undefined],
    ['a lone high surrogate before a quote', '"\\ud83d"', /surrogate/],
    ['a high surrogate before another escape', '"\\ud83d\\n"', /surrogate/],
    ['a lone low surrogate', '"\\ude00"', /surrogate/],
    ['\\u0000', '{"a":"\\u0000"}', /NUL/],
    ['brackets inside a string', `"${'['.repeat(100)}"`, undefined],
    [`nesting of ${MAX_JSON_DEPTH}`, `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`, undefined],
    [`nesting of ${MAX_JSON_DEPTH + 1}`, `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, /nested deeper/],
  ])('%s', (_label, text, expected) => {
    const reason = hostileJsonTextReason(text);
    if (expected) expect(reason).toMatch(expected);
    else expect(reason).toBeUndefined();
  });
});

describe('hostileUrlEncodedReason', () => {
  it.each([
    ['a=1&b=%C3%A9+x', undefined],
    ['a=%F0%9F%98%80', undefined],
    ['a=%00', /NUL/],
    ['a=%C0%AF', /not UTF-8/],
    ['a=%FF', /not UTF-8/],
    ['a=%ED%A0%80', /not UTF-8/],
    ['%E2%82=1', /not UTF-8/],
    ['a=%zz', /not UTF-8/],
  ])('%s', (encoded, expected) => {
    const reason = hostileUrlEncodedReason(encoded);
    if (expected) expect(reason).toMatch(expected);
    else expect(reason).toBeUndefined();
  });

  it('refuses exactly the texts a name-by-value decode of each pair refuses (WHATWG URL §5.1)', () => {
    // What a form parser decodes: each name and value apart, '+' as a space.
    const refusedPairByPair = (encoded: string) => encoded.split(/[&=]/).some((part) => {
      try {
        return hostileStringReason(decodeURIComponent(part.replace(/\+/g, ' '))) !== undefined;
      } catch {
        return true;
      }
    });
    const byte = fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`);
    const piece = fc.oneof(byte, fc.constantFrom('&', '=', '+', '%', '%2', 'a', 'é', '%zz', '%E2%82', '%C3%A9', '%F0%9F%98%80', '%ED%A0%80', '\u0000'));
    const encoded = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(''));
    fc.assert(fc.property(encoded, (text) => {
      expect(hostileUrlEncodedReason(text) !== undefined).toBe(refusedPairByPair(text));
    }), { seed: SEED, numRuns: 5000 });
  });
});

it('isStorableDate takes years 1 to 9999 only', () => {
  expect(isStorableDate(new Date('0001-01-01T00:00:00Z'))).toBe(true);
  expect(isStorableDate(new Date('9999-12-31T23:59:59Z'))).toBe(true);
  expect(isStorableDate(new Date('0000-12-31T00:00:00Z'))).toBe(false);
  expect(isStorableDate(new Date('+010000-01-01T00:00:00Z'))).toBe(false);
  expect(isStorableDate(new Date(Number.NaN))).toBe(false);
});
