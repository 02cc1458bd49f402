// Tells "the database refused this value" (SQLSTATE class 22, data exception) apart from a bug, so a
// value the input boundary did not foresee still comes back as 400 invalid_request, never as a 500.

// PostgreSQL manual, appendix A: class 22 is "data exception" (22P05 untranslatable character, 22021
// character not in repertoire, 22P02 invalid text representation, 22007/22008 bad or out-of-range
// datetime, 22003 numeric out of range, 22001 string too long…). 54001 is "statement too complex"
// (stack depth limit exceeded), which deeply nested jsonb reaches. PGlite reports the same codes.
const INVALID_INPUT = /^(22[0-9A-Z]{3}|54001)$/;

export function isRefusedByDatabase(error: unknown): boolean {
  for (let depth = 0; depth < 6 && typeof error === 'object' && error !== null; depth++) {
    const code: unknown = (error as { code?: unknown }).code;
    if (typeof code === 'string' && INVALID_INPUT.test(code)) return true;
    error = (error as { cause?: unknown }).cause;
  }
  return false;
}
