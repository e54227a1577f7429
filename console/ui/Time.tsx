/** A timestamp from the API, in the reader's locale, machine-readable in `dateTime`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function Time({ at, fallback = '—' }: { at: string | null | undefined; fallback?: string }) {
  if (!at) return <span>{fallback}</span>;
  return <time dateTime={at}>{formatTime(at)}</time>;
}
