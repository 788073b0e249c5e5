/**
 * Turning what the user typed into requirement specs.
 *
 * One spec per line, as in a requirements file. A line that holds only
 * names (none of the characters that a version, extra, marker or URL needs)
 * may list several separated by spaces, the way people type `pip install a
 * b c`. Everything else is left for the server to judge: it validates each
 * spec (PEP 508) and explains what it refuses, so this module never guesses.
 */

/**
 * Characters that make a line one spec, even with spaces in it: version
 * operators, markers, extras, direct references and specifier lists.
 */
const SINGLE_SPEC_CHARS = /[<>=!~;[@,]/;

/**
 * Command prefixes people paste from instructions (`pip install x`,
 * `%pip install x`, `uv add x`): the rest of the line is what they meant.
 */
const COMMAND_PREFIX =
  /^(?:[%!]?\s*(?:python3?\s+-m\s+)?pip3?\s+install|uv\s+pip\s+install|uv\s+add)\s+/i;

/** A `#` that starts a comment: at the start or after whitespace. */
const COMMENT = /(^|\s)#.*$/;

/** Split the text of the specs field into specs, in order, without repeats. */
export function splitSpecs(text: string): string[] {
  const specs: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine
      .replace(COMMENT, '')
      .trim()
      .replace(COMMAND_PREFIX, '');
    if (!line) {
      continue;
    }
    const parts = hasOnlyNames(line) ? line.split(/\s+/) : [line];
    for (const part of parts) {
      if (part && !specs.includes(part)) {
        specs.push(part);
      }
    }
  }
  return specs;
}

/** Whether a line (trimmed) is a space-separated list of bare names. */
function hasOnlyNames(line: string): boolean {
  return line.split(/\s+/).every(word => !SINGLE_SPEC_CHARS.test(word));
}
