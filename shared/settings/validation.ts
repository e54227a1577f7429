/**
 * Input validation with zod: one place that turns a zod failure into
 * `400 VALIDATION_FAILED` whose message names the field and says what is allowed.
 */
import type { z } from 'zod';
import { AppError } from '../errors.js';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = ''): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((issue) => {
    const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
    const message =
      issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')} are not allowed` : issue.message;
    return path ? `${path}: ${message}` : message;
  });
  throw new AppError('VALIDATION_FAILED', issues.join('; '), { details: { issues: result.error.issues.map((issue) => issue.path.join('.')) } });
}
