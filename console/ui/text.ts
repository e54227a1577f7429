/**
 * Making IdP-supplied strings readable as they are: whitespace that would vanish on
 * screen (leading and trailing spaces, tabs, line breaks, non-breaking and zero-width
 * spaces) becomes a visible marker, and two strings that differ only by case or spacing
 * say so. Role values are matched exactly at login, so " Admins" and "admins" must not
 * look like "Admins" here. Pure: no DOM, unit-tested.
 */

export interface Token {
  /** What to show: the text itself, or the marker standing for an invisible character. */
  text: string;
  /** Set for a marker: what it stands for, in words ("space", "tab"). */
  label?: string;
  /** Part of the leading or trailing whitespace. */
  edge: boolean;
  /** Inside the range that differs from the string compared with. */
  changed: boolean;
  /** A line break follows the marker (the string has one there). */
  breakAfter?: boolean;
}

const MARKERS: Record<string, { text: string; label: string }> = {
  ' ': { text: '·', label: 'space' },
  '\t': { text: '→', label: 'tab' },
  '\n': { text: '↵', label: 'line break' },
  '\r': { text: '␍', label: 'carriage return' },
  '\u00a0': { text: '⍽', label: 'non-breaking space' },
  '\u200b': { text: '∅', label: 'zero-width space' },
  '\u200c': { text: '∅', label: 'zero-width non-joiner' },
  '\u200d': { text: '∅', label: 'zero-width joiner' },
  '\u2060': { text: '∅', label: 'word joiner' },
  '\ufeff': { text: '∅', label: 'byte order mark' },
};

const WHITESPACE = /[\s\u200b-\u200d\u2060\ufeff]/;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function markerOf(char: string): { text: string; label: string } | undefined {
  const known = MARKERS[char];
  if (known) return known;
  if (CONTROL.test(char)) return { text: `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`, label: 'control character' };
  if (WHITESPACE.test(char)) return { text: '␣', label: `whitespace U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` };
  return undefined;
}

/**
 * The string as tokens to render: plain runs, and markers for whitespace that would not
 * show (every leading or trailing one, runs of spaces, any other kind of space).
 * @param changed a `[start, end)` range of code units to mark as differing
 * @example visibleTokens(' a') // [{ text: '·', label: 'space', edge: true, … }, { text: 'a', edge: false, … }]
 */
export function visibleTokens(value: string, changed?: readonly [number, number]): Token[] {
  const chars = [...value];
  const isWs = chars.map((char) => WHITESPACE.test(char) || CONTROL.test(char));
  const first = isWs.indexOf(false);
  const last = isWs.lastIndexOf(false);
  const tokens: Token[] = [];
  let offset = 0;
  chars.forEach((char, index) => {
    const edge = first === -1 || index < first || index > last;
    const inRun = char === ' ' && (chars[index - 1] === ' ' || chars[index + 1] === ' ');
    const isChanged = changed !== undefined && offset >= changed[0] && offset < changed[1];
    offset += char.length;
    const marker = char === ' ' && !edge && !inRun ? undefined : markerOf(char);
    if (marker) {
      tokens.push({ text: marker.text, label: marker.label, edge, changed: isChanged, ...(char === '\n' ? { breakAfter: true } : {}) });
      return;
    }
    const previous = tokens[tokens.length - 1];
    if (previous && previous.label === undefined && previous.edge === edge && previous.changed === isChanged) previous.text += char;
    else tokens.push({ text: char, edge, changed: isChanged });
  });
  return tokens;
}

/** Short notes on what is unusual about a string's whitespace ("2 leading spaces"). */
export function whitespaceNotes(value: string): string[] {
  const notes: string[] = [];
  const leading = /^[\s\u200b-\u200d\u2060\ufeff]+/.exec(value)?.[0] ?? '';
  const trailing = value.length > leading.length ? (/[\s\u200b-\u200d\u2060\ufeff]+$/.exec(value)?.[0] ?? '') : '';
  const describe = (text: string, where: string) =>
    /^ +$/.test(text) ? `${text.length} ${where} ${text.length === 1 ? 'space' : 'spaces'}` : `${where} whitespace (${text.length} ${text.length === 1 ? 'character' : 'characters'})`;
  if (value === '') notes.push('empty string');
  else if (leading.length === value.length) notes.push('only whitespace');
  else {
    if (leading) notes.push(describe(leading, 'leading'));
    if (trailing) notes.push(describe(trailing, 'trailing'));
  }
  const inner = value.slice(leading.length, value.length - trailing.length);
  if (/\s{2,}/.test(inner)) notes.push('several spaces in a row');
  if (/[\t\r\n]/.test(inner)) notes.push('tab or line break inside');
  if (/[\u00a0]/.test(value)) notes.push('non-breaking space');
  if (/[\u200b-\u200d\u2060\ufeff]/.test(value)) notes.push('zero-width character');
  return notes;
}

const squash = (value: string) => value.replace(/[\s\u200b-\u200d\u2060\ufeff]+/g, ' ').trim();

export type Likeness = 'equal' | 'case' | 'whitespace' | 'case-and-whitespace' | 'different';

/** How two strings compare, for the note under expected vs received. */
export function likeness(expected: string, received: string): Likeness {
  if (expected === received) return 'equal';
  if (expected.toLowerCase() === received.toLowerCase()) return 'case';
  if (squash(expected) === squash(received)) return 'whitespace';
  if (squash(expected).toLowerCase() === squash(received).toLowerCase()) return 'case-and-whitespace';
  return 'different';
}

export const LIKENESS_NOTES: Record<Exclude<Likeness, 'equal' | 'different'>, string> = {
  case: 'They differ only in upper and lower case: the match is exact, so case counts.',
  whitespace: 'They differ only in spaces: the match is exact, so leading, trailing and repeated spaces count.',
  'case-and-whitespace': 'They differ only in case and spaces: the match is exact, so both count.',
};

/**
 * The `[start, end)` range of `value` that differs from `other`: what is left after their
 * common beginning and common end. Undefined when they are equal.
 */
export function differingRange(value: string, other: string): [number, number] | undefined {
  if (value === other) return undefined;
  let start = 0;
  while (start < value.length && start < other.length && value[start] === other[start]) start += 1;
  let end = 0;
  while (end < value.length - start && end < other.length - start && value[value.length - 1 - end] === other[other.length - 1 - end]) end += 1;
  return [start, Math.max(start, value.length - end)];
}

/**
 * Received values that nearly match an expected one (same but for case or spacing): the
 * usual cause of ROLE_NOT_MAPPED.
 */
export function nearMatches(expected: readonly string[], received: readonly string[]): { expected: string; received: string; likeness: Likeness }[] {
  const found: { expected: string; received: string; likeness: Likeness }[] = [];
  for (const value of received) {
    if (expected.includes(value)) continue;
    for (const candidate of expected) {
      const how = likeness(candidate, value);
      if (how !== 'different' && how !== 'equal') found.push({ expected: candidate, received: value, likeness: how });
    }
  }
  return found;
}

/** Values typed as a list: one per line or separated by commas, each trimmed, blank ones dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((value) => value.trim())
    .filter((value) => value !== '');
}
