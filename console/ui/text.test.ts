import { describe, expect, it } from 'vitest';
import { differingRange, likeness, nearMatches, splitList, visibleTokens, whitespaceNotes } from './text.js';

describe('visibleTokens', () => {
  it('marks leading and trailing spaces and keeps single inner spaces plain', () => {
    expect(visibleTokens(' Account Admin ')).toEqual([
      { text: '·', label: 'space', edge: true, changed: false },
      { text: 'Account Admin', edge: false, changed: false },
      { text: '·', label: 'space', edge: true, changed: false },
    ]);
  });

  it('marks runs of spaces, tabs, line breaks and zero-width characters inside', () => {
    const labels = visibleTokens('a  b\tc\nd\u200be').filter((token) => token.label).map((token) => token.label);
    expect(labels).toEqual(['space', 'space', 'tab', 'line break', 'zero-width space']);
    expect(visibleTokens('a\nb').find((token) => token.label === 'line break')?.breakAfter).toBe(true);
  });

  it('marks the changed range', () => {
    const tokens = visibleTokens('Admins', [0, 1]);
    expect(tokens).toEqual([
      { text: 'A', edge: false, changed: true },
      { text: 'dmins', edge: false, changed: false },
    ]);
  });

  it('shows a string of only spaces as markers', () => {
    expect(visibleTokens('  ').map((token) => token.text)).toEqual(['·', '·']);
  });
});

describe('whitespaceNotes', () => {
  it('names leading and trailing spaces', () => {
    expect(whitespaceNotes('  Admins ')).toEqual(['2 leading spaces', '1 trailing space']);
  });
  it('names unusual characters', () => {
    expect(whitespaceNotes('Ad\u00a0mins')).toEqual(['non-breaking space']);
    expect(whitespaceNotes('')).toEqual(['empty string']);
    expect(whitespaceNotes('Admins')).toEqual([]);
  });
});

describe('likeness', () => {
  it.each([
    ['Admins', 'Admins', 'equal'],
    ['Admins', 'admins', 'case'],
    ['Account Admin', 'Account  Admin ', 'whitespace'],
    ['Account Admin', ' account admin', 'case-and-whitespace'],
    ['Admins', 'Users', 'different'],
  ] as const)('%j vs %j is %s', (expected, received, how) => {
    expect(likeness(expected, received)).toBe(how);
  });
});

describe('differingRange', () => {
  it('is what remains after the common beginning and end', () => {
    expect(differingRange('Admins ', 'Admins')).toEqual([6, 7]);
    expect(differingRange('admins', 'Admins')).toEqual([0, 1]);
    expect(differingRange('same', 'same')).toBeUndefined();
  });
});

describe('nearMatches', () => {
  it('finds received values that match an expected one but for case or spacing', () => {
    expect(nearMatches(['Admins', 'Users'], ['admins', 'Users', 'Other'])).toEqual([{ expected: 'Admins', received: 'admins', likeness: 'case' }]);
  });
});

describe('splitList', () => {
  it('splits on commas and new lines and trims', () => {
    expect(splitList('Admins, Engineering\n\n Sales ,')).toEqual(['Admins', 'Engineering', 'Sales']);
  });
});
