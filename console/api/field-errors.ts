/**
 * Places an API error beside the control that caused it.
 *
 * `VALIDATION_FAILED` messages name their field (`saml.ssoUrl: must be an https URL`),
 * several joined by `; `: each part goes to the form field whose key is that path or a
 * prefix of it (`saml.certificates` takes `saml.certificates[0]: …`). Other codes go
 * where the form says (`SSO_REQUIRED_BY_JIT` beside "Enable SSO"). Whatever has no field
 * stays with the form, beside its Save button. Pure: no DOM, unit-tested.
 */

/** One thing the API said, as shown: the code and the message (or the message's part). */
export interface Problem {
  code: string;
  message: string;
}

/** Where a form shows a code: a field key, or a function of the message for codes that name several things. */
export type CodePlacement = Record<string, string | ((message: string) => string | undefined)>;

export interface PlacedProblems {
  byField: Record<string, Problem[]>;
  /** Problems no field claims: shown beside the form's Save button. */
  general: Problem[];
}

export const NO_PROBLEMS: PlacedProblems = Object.freeze({ byField: {}, general: [] }) as PlacedProblems;

/** The codes whose messages name fields as `path: problem`. */
const FIELD_NAMING_CODES = new Set(['VALIDATION_FAILED']);

const FIELD_PART = /^([A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*): ([\s\S]+)$/;

/** `a.b[0].c` → `a.b.0.c`: one spelling for paths from zod (`.0`) and from hand-written messages (`[0]`). */
export const normalizePath = (path: string): string => path.replace(/\[(\d+)\]/g, '.$1');

/** The longest field key that is `path` or a prefix of it (on `.` boundaries). */
export function fieldForPath(path: string, fields: readonly string[]): string | undefined {
  const wanted = normalizePath(path);
  let best: string | undefined;
  for (const field of fields) {
    const key = normalizePath(field);
    if ((wanted === key || wanted.startsWith(`${key}.`)) && (best === undefined || key.length > normalizePath(best).length)) best = field;
  }
  return best;
}

/** Splits a field-naming message into its `path: problem` parts (a part without a path has `path` undefined). */
export function messageParts(message: string): { path?: string; text: string }[] {
  return message
    .split(/;\s+/)
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const match = FIELD_PART.exec(part.trim());
      return match ? { path: match[1], text: part.trim() } : { text: part.trim() };
    });
}

/**
 * Sorts one error into the form's fields.
 * @param fields the form's field keys, as the API names them (`saml.ssoUrl`, `items.0.roleId`)
 * @param placement where non-field-naming codes go
 * @example placeProblems({ code: 'VALIDATION_FAILED', message: 'saml.ssoUrl: must be https' }, ['saml.ssoUrl'])
 *   // → { byField: { 'saml.ssoUrl': [{ code: 'VALIDATION_FAILED', message: 'saml.ssoUrl: must be https' }] }, general: [] }
 */
export function placeProblems(error: Problem | null | undefined, fields: readonly string[], placement: CodePlacement = {}): PlacedProblems {
  if (!error) return NO_PROBLEMS;
  const byField: Record<string, Problem[]> = {};
  const general: Problem[] = [];
  const put = (field: string | undefined, problem: Problem) => {
    if (field === undefined) general.push(problem);
    else (byField[field] ??= []).push(problem);
  };
  if (FIELD_NAMING_CODES.has(error.code)) {
    for (const part of messageParts(error.message)) {
      put(part.path === undefined ? undefined : fieldForPath(part.path, fields), { code: error.code, message: part.text });
    }
    if (general.length === 0 && Object.keys(byField).length === 0) general.push(error);
    return { byField, general };
  }
  const rule = placement[error.code];
  const field = typeof rule === 'function' ? rule(error.message) : rule;
  put(field, { code: error.code, message: error.message });
  return { byField, general };
}

/** Every problem of a placement, field ones first: for a summary. */
export const allProblems = (placed: PlacedProblems): Problem[] => [...Object.values(placed.byField).flat(), ...placed.general];
