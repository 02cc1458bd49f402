// What the database or a recursive parser cannot take, as plain predicates: the HTTP input boundary,
// the metadata-document check and the CLI's argument parser all ask these same questions.
import { isUtf8 } from 'node:buffer';

/** Deeper JSON than this is refused before any parser or walker recurses into it (metadata is ≤ 3 deep). */
export const MAX_JSON_DEPTH = 32;

// PostgreSQL refuses NUL in text and jsonb (22P05 / 22021) and unpaired UTF-16 surrogates in jsonb
// (22P05); a lone surrogate cannot be encoded as UTF-8 at all (RFC 3629 §3).
// With the `u` flag a well-formed pair is one code point, so only an unpaired half matches the range.
const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDFFF]/u;

/** Why a string cannot be stored (NUL, a lone surrogate), or undefined when it can. */
export function hostileStringReason(value: string): string | undefined {
  const found = NUL_OR_LONE_SURROGATE.exec(value);
  if (!found) return undefined;
  return found[0] === '\u0000' ? 'contains a NUL character' : 'contains an unpaired UTF-16 surrogate';
}

/** Why a parsed value cannot be stored: a hostile string anywhere in it, or nesting deeper than MAX_JSON_DEPTH. */
export function hostileValueReason(value: unknown): string | undefined {
  // Walked with an explicit stack, so hostile nesting cannot exhaust the call stack here either.
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: item, depth } = pending.pop()!;
    if (typeof item === 'string') {
      const reason = hostileStringReason(item);
      if (reason) return reason;
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) return 'contains a number out of range';
    } else if (item !== null && typeof item === 'object') {
      if (depth >= MAX_JSON_DEPTH) return `is nested deeper than ${MAX_JSON_DEPTH} levels`;
      for (const [key, inner] of Object.entries(item)) {
        pending.push({ value: key, depth }, { value: inner, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** Bytes that are not well-formed UTF-8 (overlong forms such as C0 AF, FF, encoded surrogates). */
export function isInvalidUtf8(bytes: Uint8Array): boolean {
  return !isUtf8(bytes);
}

/**
 * Why JSON text is refused, judged on the text before parsing: nesting deeper than MAX_JSON_DEPTH, or a
 * `\u0000` or unpaired surrogate escape (RFC 8259 §8.2 allows them; PostgreSQL's jsonb does not).
 */
export function hostileJsonTextReason(text: string): string | undefined {
  let depth = 0;
  let inString = false;
  let pendingHighSurrogate = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') {
        const escaped = text[i + 1];
        if (escaped === 'u') {
          const unit = Number.parseInt(text.slice(i + 2, i + 6), 16);
          if (unit === 0) return 'contains a NUL character';
          const isHigh = unit >= 0xd800 && unit <= 0xdbff;
          const isLow = unit >= 0xdc00 && unit <= 0xdfff;
          if (pendingHighSurrogate !== isLow) return 'contains an unpaired UTF-16 surrogate';
          pendingHighSurrogate = isHigh;
          i += 5;
          continue;
        }
        i += 1;
      } else if (char === '"') {
        inString = false;
      }
      if (pendingHighSurrogate) return 'contains an unpaired UTF-16 surrogate';
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{' || char === '[') {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) return `is nested deeper than ${MAX_JSON_DEPTH} levels`;
    } else if (char === '}' || char === ']') depth -= 1;
  }
  return hostileStringReason(text);
}

/**
 * Why form-urlencoded text (a query string, a form body; WHATWG URL §5.1) is refused: a percent-encoding
 * that is not UTF-8 (`%C0%AF`, `%FF`) or that decodes to NUL. Raw text is checked by hostileStringReason.
 */
export function hostileUrlEncodedReason(encoded: string): string | undefined {
  // Without a percent-encoding, decoding only turns '+' into spaces: the raw text is the whole question.
  if (!encoded.includes('%')) return hostileStringReason(encoded);
  // Decoded whole rather than name by value: a percent-encoding never spans '&' or '=' (each byte is %XX,
  // and a UTF-8 sequence cut by one fails to decode either way), so the same texts are refused, in one pass
  // (test/input/hostile-value-predicates.test.ts holds it to a pair-by-pair decode). '+' is left as it is:
  // it decodes to a space, and neither is hostile.
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return 'contains a percent-encoding that is not UTF-8';
  }
  return hostileStringReason(decoded);
}

/** A date PostgreSQL's timestamptz and ISO 8601's four-digit years both take (years 1–9999). */
export function isStorableDate(date: Date): boolean {
  const year = date.getUTCFullYear();
  return Number.isFinite(date.getTime()) && year >= 1 && year <= 9999;
}
