import { BadRequestException, StandardSchemaValidationPipe } from '@nestjs/common';

/** One issue as `path: message`; the path is left out for the value as a whole. */
function formatIssue(issue: {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
}): string {
  if (!issue.path?.length) return issue.message;
  const path = issue.path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
  return `${path}: ${issue.message}`;
}

/**
 * Validates every parameter that declares a `schema`. A failure is a 400 whose `message` is one
 * string, like every other admin 4xx, so callers read one field whatever went wrong.
 */
export const schemaValidation = new StandardSchemaValidationPipe({
  exceptionFactory: (issues) => new BadRequestException(issues.map(formatIssue).join('; ')),
});
