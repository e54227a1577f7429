/**
 * Expected beside received, for a failed login: strings with their whitespace shown and
 * the part that differs marked; lists of strings one per line; anything else as
 * pretty-printed JSON. A note says when the two differ only by case or spacing.
 */
import { differingRange, likeness, LIKENESS_NOTES, nearMatches } from './text.js';
import { VisibleText } from './VisibleText.js';

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

function Value({ value, other }: { value: unknown; other: unknown }) {
  if (value === undefined || value === null) return <p class="muted">(nothing)</p>;
  if (typeof value === 'string') {
    return <VisibleText value={value} changed={typeof other === 'string' ? differingRange(value, other) : undefined} />;
  }
  if (isStringList(value)) {
    if (value.length === 0) return <p class="muted">(an empty list)</p>;
    return (
      <ul class="value-list">
        {value.map((item, index) => (
          <li key={index}>
            <VisibleText value={item} />
          </li>
        ))}
      </ul>
    );
  }
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** The sentence under the comparison, when there is something to say. */
export function comparisonNotes(expected: unknown, received: unknown): string[] {
  const asList = (value: unknown): string[] | undefined => (typeof value === 'string' ? [value] : isStringList(value) ? value : undefined);
  if (typeof expected === 'string' && typeof received === 'string') {
    const how = likeness(expected, received);
    return how === 'equal' || how === 'different' ? [] : [LIKENESS_NOTES[how]];
  }
  const expectedList = asList(expected);
  const receivedList = asList(received);
  if (!expectedList || !receivedList) return [];
  return nearMatches(expectedList, receivedList).map(
    (match) =>
      `Received “${match.received}” is close to expected “${match.expected}”. ${LIKENESS_NOTES[match.likeness as keyof typeof LIKENESS_NOTES] ?? ''}`,
  );
}

export function ExpectedReceived({ expected, received }: { expected: unknown; received: unknown }) {
  const notes = comparisonNotes(expected, received);
  return (
    <div class="compare-block">
      <div class="compare">
        <div class="compare-side">
          <p class="compare-label">Expected</p>
          <Value value={expected} other={received} />
        </div>
        <div class="compare-side">
          <p class="compare-label">Received</p>
          <Value value={received} other={expected} />
        </div>
      </div>
      {notes.map((note, index) => (
        <p class="compare-note" key={index}>
          {note}
        </p>
      ))}
    </div>
  );
}
