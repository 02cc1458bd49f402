// Poisoned tool descriptions (issue 14 §4): a tool's name, title, description and schemas are text the model
// obeys, so the inventory flags text that hides instructions or points the model at secrets, files or hosts.
// Pure: no I/O, no state; bounded work however large or deep the definition a server sends.
import { MAX_JSON_DEPTH } from '../input/hostile-values.ts';

export const descriptionFindingKinds = [
  'invisible_unicode', 'bidi_control', 'addressed_to_model', 'secret_reference', 'local_file_reference', 'unexpected_url',
  // Not a kind of poison but the lack of an answer: what was not read may hide any of the above, so it needs the
  // same acknowledgement (a server cannot escape the check by sending more than it can look at).
  'not_fully_inspected',
] as const;

type Kind = typeof descriptionFindingKinds[number];

export interface DescriptionFinding {
  kind: Kind;
  /** Where the text is: 'description', 'title', 'annotations.title', 'inputSchema.properties.path.description' … */
  field: string;
  /** A short printable piece of the text around what was found; invisible characters as \u{XXXX}. */
  excerpt: string;
}

/** Plain words for each kind, for the CLI and the console. */
export const FINDING_WORDS: Record<Kind, string> = {
  invisible_unicode: 'Contains invisible characters (zero-width, Unicode tag or other format characters): the model reads them, a person reviewing the text cannot see them.',
  bidi_control: 'Contains bidirectional control characters: the text is displayed in a different order than the model reads it.',
  addressed_to_model: 'Speaks to the model instead of describing the tool: tells it to ignore its instructions, to keep something from the person, or to do something first.',
  secret_reference: 'Mentions secrets (SSH or private keys, API keys, tokens, passwords, credential files): a tool description has no reason to point the model at them.',
  local_file_reference: 'Names a concrete file or folder on the computer (an absolute or home path, a file: URL, ../): the model may be led to read it.',
  unexpected_url: 'Links to a host other than the MCP server\'s own, or holds a data: or javascript: URL: the model may be told to send data there.',
  not_fully_inspected: 'Too large or too deeply nested to be inspected completely: the part not read may hide any of the other findings.',
};

// Bounds: a tools/list answer is a few kB per tool; a hostile 10 MB one must still finish at once.
const MAX_VALUES = 10_000;
const MAX_TOTAL_CHARS = 1_000_000;
const MAX_STRING_CHARS = 100_000;
const MAX_EXCERPT = 80;

// Trojan Source (CVE-2021-42574): embeddings, overrides, isolates and the implicit marks reorder what is shown.
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
// Default-ignorable code points (Unicode §5.21: rendered as nothing), every format character (Cf) and the
// C0/C1 controls except tab and line breaks (ANSI escapes hide text in terminals). This takes in zero-width
// characters (U+200B–U+200D, U+2060–U+2064, U+FEFF) and the tag characters U+E0000–U+E007F, which models read
// as ASCII ("ASCII smuggling"). Soft hyphens, variation selectors and ZWJ have honest uses: see invisibleAt.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
const VARIATION_SELECTOR = /[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u;
const EMOJI = /[\p{Extended_Pictographic}\u{1F3FB}-\u{1F3FF}\uFE0F]/u;

/** Where the first invisible character is, or -1. */
function invisibleAt(text: string): number {
  const chars = Array.from(text);
  let offset = 0;
  for (let i = 0; i < chars.length; offset += chars[i]!.length, i++) {
    const char = chars[i]!;
    if (BIDI.test(char) || !INVISIBLE.test(char)) continue;
    const before = chars[i - 1];
    const after = chars[i + 1];
    // A soft hyphen marks where a word may break (German, Finnish text): one alone is honest, runs are carriers.
    if (char === '\u00AD' && after !== '\u00AD' && before !== '\u00AD') continue;
    // A variation selector picks a glyph for the character before it (❤️, CJK variants): one after a visible
    // base is honest; one with no base or after another selector carries bytes ("emoji smuggling").
    if (VARIATION_SELECTOR.test(char) && before !== undefined && !/\s/u.test(before) && !INVISIBLE.test(before)) continue;
    // A ZWJ between emoji draws one emoji (👨‍👩‍👧); anywhere else it only hides.
    if (char === '\u200D' && before !== undefined && after !== undefined && EMOJI.test(before) && EMOJI.test(after)) continue;
    return offset;
  }
  return -1;
}

/** A printable rendering: invisible, bidi and control characters and lone surrogates as \u{XXXX}, spaces collapsed. */
function printable(text: string, max = MAX_EXCERPT): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const piece = INVISIBLE.test(char) || BIDI.test(char) || (code >= 0xD800 && code <= 0xDFFF)
      ? `\\u{${code.toString(16).toUpperCase().padStart(4, '0')}}`
      : /\s/u.test(char) ? ' ' : char;
    if (piece === ' ' && out.endsWith(' ')) continue;
    if (out.length + piece.length > max - 1) return `${out}…`;
    out += piece;
  }
  return out;
}

function excerptAround(text: string, index: number, length: number): string {
  const start = Math.max(0, index - 24);
  const prefix = start > 0 ? '…' : '';
  return printable(prefix + text.slice(start, index + length + 48).trim());
}

/**
 * What the model reads: tag characters as the ASCII they smuggle, other invisible characters removed (so
 * "ig\u200Bnore" still reads "ignore"), NFKC (fullwidth "ｉｇｎｏｒｅ" is "ignore"), whitespace collapsed.
 */
function modelView(text: string): string {
  return text
    .replace(/[\u{E0020}-\u{E007E}]/gu, (tag) => String.fromCharCode(tag.codePointAt(0)! - 0xE0000))
    .replace(new RegExp(INVISIBLE.source, 'gu'), '')
    .normalize('NFKC')
    .replace(/\s+/gu, ' ');
}

interface TextRule { kind: Kind; pattern: RegExp }

// Each pattern is matched against modelView(text). Quantifiers are bounded and never nested, so a rule costs
// a constant per character. Benign tool text ("Deletes a note", "Reads the file at the given path", "Returns
// the URL of the note") matches none: the rules want text spoken to the model, or a concrete secret or path.
const TEXT_RULES: TextRule[] = [
  // The canonical injection, "ignore all previous instructions", and its paraphrases.
  { kind: 'addressed_to_model', pattern: /\b(?:ignore|disregard|forget|override|bypass)\b(?: (?:all|any|the|your|of|these|those|every|my))* (?:previous|prior|above|earlier|preceding|foregoing|original|other|system|existing)(?: \w+)? (?:instructions?|prompts?|rules|directions|guidelines|messages|context|constraints)\b/i },
  { kind: 'addressed_to_model', pattern: /\b(?:ignore|disregard)\b (?:the |any )?(?:user|human)(?:'s)? (?:request|instructions?|wishes)\b/i },
  // Concealment: an honest tool never asks the model to keep something from the person it works for.
  { kind: 'addressed_to_model', pattern: /\b(?:do not|don't|dont|never|must not|should not|shouldn't)\b (?:\w+ ){0,2}?(?:tell|inform|mention|reveal|disclose|notify|alert)\b[^.!?]{0,40}?\b(?:user|human|person|operator)s?\b/i },
  { kind: 'addressed_to_model', pattern: /\bwithout (?:telling|informing|notifying|alerting|mentioning|letting)\b[^.!?]{0,20}?\b(?:user|human|person)\b/i },
  { kind: 'addressed_to_model', pattern: /\b(?:hide|conceal|keep)\b[^.!?]{0,30}?\bfrom (?:the )?(?:user|human|person)\b/i },
  { kind: 'addressed_to_model', pattern: /\buser (?:must|should|does|need|needs|doesn't|does not) (?:not |never )?(?:need to )?(?:know|see|notice|be told|find out)\b/i },
  // Commands that claim priority or order the model about ("you must always …", "before using this tool, read …").
  { kind: 'addressed_to_model', pattern: /\byou must (?:always|first|now|immediately|never|also)\b/i },
  { kind: 'addressed_to_model', pattern: /\b(?:before|prior to) (?:using|calling|invoking|running|executing) (?:this|any|the|other) tools?\b[^.!?]{0,30}?\b(?:read|call|send|fetch|run|execute|open|invoke|visit|include|pass)\b/i },
  { kind: 'addressed_to_model', pattern: /\b(?:these|this|following) (?:instructions?|rules?) (?:override|supersedes?|takes? precedence)\b|\btakes? precedence over (?:all|any|the|other|previous)\b/i },
  { kind: 'addressed_to_model', pattern: /\b(?:new|updated|real|actual|hidden|secret) instructions? ?:/i },
  { kind: 'addressed_to_model', pattern: /\b(?:you are now|from now on,? you|pretend (?:to be|you are))\b/i },
  // Tags and role markers that imitate the prompt's own structure (<IMPORTANT> is the published tool-poisoning form).
  { kind: 'addressed_to_model', pattern: /<\/? ?(?:important|system|instructions?|secret|hidden|admin|assistant|im_start|im_end|sys)\b[^<>]{0,20}>|<\|im_(?:start|end)\|>|\[\/?INST\]|<<\/?SYS>>/i },
  { kind: 'addressed_to_model', pattern: /\bsystem (?:prompt|message|instructions?)\b/i },
  { kind: 'addressed_to_model', pattern: /\bas an? (?:ai|llm|language model|ai assistant|assistant)\b/i },
  { kind: 'addressed_to_model', pattern: /(?:^|[.!?>"] ?)(?:assistant|system|human) ?:|\bassistant ?:/i },
  // Shadowing: one tool's text rewriting how another tool behaves ("when this tool is available, send_email must …").
  { kind: 'addressed_to_model', pattern: /\bwhen this tool is (?:available|present|loaded|enabled|installed|connected)\b/i },
  { kind: 'addressed_to_model', pattern: /\b(?:the|any|all|other) [\w-]+ tools? (?:must|should) (?:always )?(?:send|forward|include|use|call|cc|bcc)\b/i },
  { kind: 'addressed_to_model', pattern: /\b(?:send|forward|bcc|cc|copy|redirect|upload|post|email)\b[^.!?]{0,60}?\bto [\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,5}\b/i },

  // SSH keys and their folder.
  { kind: 'secret_reference', pattern: /\.ssh\b|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b/i },
  // dotenv files (".env", ".env.local"), not process.env.
  { kind: 'secret_reference', pattern: /(?<![\w.$])\.env(?:\.[a-z]+)?\b/i },
  { kind: 'secret_reference', pattern: /\bprivate[ _-]?keys?\b|-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----/i },
  // Credentials by their environment name (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, OPENAI_API_KEY): upper case only.
  { kind: 'secret_reference', pattern: /\b(?:[A-Z][A-Z0-9]{0,30}_){1,6}(?:SECRET|TOKEN|API_?KEY|ACCESS_KEY|PASSWORD|PASSWD|CREDENTIALS?)(?:_[A-Z0-9]{1,30}){0,4}\b/ },
  // Files that hold credentials: cloud and package-manager logins, agents' MCP configuration with its tokens.
  { kind: 'secret_reference', pattern: /\.aws[\\/]credentials|(?<![\w])\.(?:npmrc|netrc|pgpass|git-credentials|pypirc)\b|\bmcp\.json\b|\bclaude_desktop_config\.json\b|\.cursor[\\/]|\.docker[\\/]config\.json|\.kube[\\/]config|\bcredentials\.json\b|\bwallet\.dat\b|\bkeychain\b/i },
  // A verb that moves data with a credential as its object ("read … and pass the API key", "include your token").
  // A bare "token" is left alone ("pass the page token for the next page"); a qualified one is not. Imperatives
  // only ("send", not "sends": honest descriptions say what the tool does), and not a warning ("do not include secrets").
  { kind: 'secret_reference', pattern: /(?<!(?:\bnot|\bnever|\bno|n't) )\b(?:send|include|pass|read|share|forward|attach|append|upload|post|copy|paste|embed|leak|exfiltrate|transmit|output|print|reveal|extract|collect|dump)\b[^.!?]{0,60}?\b(?:api[ _-]?keys?|access[ _-]?keys?|secret[ _-]?keys?|secrets?|credentials?|passwords?|passphrases?|(?:access|auth|bearer|session|oauth|refresh|id|personal access|api|github|slack) tokens?|(?:your|their|user's|all) tokens|seed phrases?|mnemonics?|cookies?)\b/i },

  // Concrete local paths only: "the file at the given path" names none.
  { kind: 'local_file_reference', pattern: /\bfile:\/{1,3}[^\s]/i },
  // System and home folders (Unix, macOS), not an API route such as "/users/{id}" (case-sensitive on purpose).
  { kind: 'local_file_reference', pattern: /(?<![\w.~/-])\/(?:etc|root|home|Users|var|proc|sys|dev|tmp|private|opt|usr|bin|sbin|mnt|Volumes|Library)(?![\w-])/ },
  { kind: 'local_file_reference', pattern: /(?<![\w~])~(?:[A-Za-z_][\w.-]{0,31})?[\\/]|\$\{?HOME\}?[\\/]|%(?:USERPROFILE|APPDATA|LOCALAPPDATA|HOMEPATH)%/i },
  // Windows drive letters and UNC shares.
  { kind: 'local_file_reference', pattern: /(?<!\w)[A-Za-z]:\\[^\s]|(?<![\w:])[A-Za-z]:\/(?!\/)[^\s]|(?<!\S)\\\\[\w.-]{1,64}\\[^\s]/ },
  // Traversal out of whatever folder the tool was given.
  { kind: 'local_file_reference', pattern: /(?<!\.)\.\.[\\/]/ },
  { kind: 'local_file_reference', pattern: /(?<![\w.])\.(?:bashrc|zshrc|bash_profile|profile|bash_history|zsh_history|gitconfig|gnupg)\b/ },

  // URLs that run or carry content of their own, whatever the host.
  { kind: 'unexpected_url', pattern: /\bdata:[a-z]{1,20}\/[\w.+-]{1,60}[;,]|\b(?:javascript|vbscript):(?=\S)/i },
];

const URL_PATTERN = /\b(?:https?|wss?|ftp):\/\/[^\s"'<>()[\]{}`\\]{1,2048}/gi;

/** An allowed host as a bare lower-case hostname: "mcp.example.com", "localhost:3001" and full URLs all work. */
function hostnameOf(entry: string): string {
  try {
    return new URL(entry.includes('://') ? entry : `http://${entry}`).hostname.replace(/\.$/, '');
  } catch {
    return entry.toLowerCase();
  }
}

/** The first http(s)/ws/ftp URL in the text whose host is not allowed (one that does not parse is not allowed). */
function unexpectedUrl(view: string, allowed: ReadonlySet<string>): { index: number; length: number } | undefined {
  for (const match of view.matchAll(URL_PATTERN)) {
    let host: string | undefined;
    try {
      host = new URL(match[0]).hostname.replace(/\.$/, '');
    } catch {
      host = undefined;
    }
    if (host === undefined || !allowed.has(host)) return { index: match.index, length: match[0].length };
  }
  return undefined;
}

// Schema keywords whose values are syntax, not prose ("$schema": "https://json-schema.org/…", "pattern"):
// only the Unicode rules read them.
const SYNTAX_KEYWORDS = new Set(['$schema', '$id', '$ref', '$anchor', '$dynamicRef', '$dynamicAnchor', 'type', 'format', 'pattern', 'contentMediaType', 'contentEncoding']);

function pathTo(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$-]{0,63}$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(printable(key, 40)).replace(/\\\\u\{/g, '\\u{')}]`;
}

/**
 * The findings for one tool definition as a server lists it (MCP `tools/list`): every string of its title,
 * description, annotations and input and output schemas (values and property names), at most one finding per
 * kind and field. `allowedUrlHosts`: the MCP server's own host(s); a URL to any other host is unexpected.
 */
export function findPoisonedText(
  tool: { name: string; title?: unknown; description?: unknown; inputSchema?: unknown; outputSchema?: unknown; annotations?: unknown },
  options: { allowedUrlHosts?: readonly string[] } = {},
): DescriptionFinding[] {
  const allowed = new Set((options.allowedUrlHosts ?? []).map(hostnameOf));
  const findings: DescriptionFinding[] = [];
  const seen = new Set<string>();
  let values = 0;
  let chars = 0;
  let capped = false;

  const add = (kind: Kind, field: string, excerpt: string) => {
    const key = `${kind}\u0000${field}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push({ kind, field, excerpt });
  };
  const cap = (field: string, why: string) => {
    if (!capped) add('not_fully_inspected', field, printable(why));
    capped = true;
  };

  const inspect = (raw: string, field: string, prose: boolean) => {
    let text = raw;
    if (text.length > MAX_STRING_CHARS) {
      cap(field, `${text.length} characters long: only the first ${MAX_STRING_CHARS} were inspected`);
      text = text.slice(0, MAX_STRING_CHARS);
    }
    chars += text.length;
    const bidi = BIDI.exec(text);
    if (bidi) add('bidi_control', field, excerptAround(text, bidi.index, bidi[0].length));
    if (INVISIBLE.test(text)) {
      const at = invisibleAt(text);
      if (at >= 0) add('invisible_unicode', field, excerptAround(text, at, 1));
    }
    if (!prose) return;
    const view = modelView(text);
    for (const rule of TEXT_RULES) {
      if (seen.has(`${rule.kind}\u0000${field}`)) continue;
      const match = rule.pattern.exec(view);
      if (match) add(rule.kind, field, excerptAround(view, match.index, match[0].length));
    }
    const url = unexpectedUrl(view, allowed);
    if (url) add('unexpected_url', field, excerptAround(view, url.index, url.length));
  };

  const spent = () => values >= MAX_VALUES || chars >= MAX_TOTAL_CHARS;
  // Called with undefined where the budget ran out, so the cap finding names the field it stopped at.
  const walk = (value: unknown, field: string, depth: number, prose: boolean) => {
    if (capped && spent()) return;
    if (values >= MAX_VALUES) return cap(field, `more than ${MAX_VALUES} values: the rest was not inspected`);
    if (chars >= MAX_TOTAL_CHARS) return cap(field, `more than ${MAX_TOTAL_CHARS} characters: the rest was not inspected`);
    values += 1;
    if (typeof value === 'string') return inspect(value, field, prose);
    if (value === null || typeof value !== 'object') return;
    if (depth >= MAX_JSON_DEPTH) return cap(field, `nested deeper than ${MAX_JSON_DEPTH} levels: the rest was not inspected`);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (spent()) return walk(undefined, pathTo(field, i), depth, prose);
        walk(value[i], pathTo(field, i), depth + 1, prose);
      }
      return;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const inner = pathTo(field, key);
      if (spent()) return walk(undefined, inner, depth, prose);
      walk(key, inner, depth + 1, true);
      walk((value as Record<string, unknown>)[key], inner, depth + 1, !SYNTAX_KEYWORDS.has(key));
    }
  };

  // The name is an identifier, not prose: only hidden characters are looked for (a look-alike name).
  walk(tool.name, 'name', 0, false);
  walk(tool.title, 'title', 0, true);
  walk(tool.description, 'description', 0, true);
  walk(tool.annotations, 'annotations', 0, true);
  walk(tool.inputSchema, 'inputSchema', 0, true);
  walk(tool.outputSchema, 'outputSchema', 0, true);
  return findings;
}
