import { z } from 'zod';
import { MAX_USER_ID_CHARS, userIdProblem } from '../connections/user-id.js';

/** A user id exactly as the WebSocket upgrade accepts it, with the same reasons for refusing one. */
export const userIdSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = userIdProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: `1-${MAX_USER_ID_CHARS} characters, no "|", no control characters, no invisible format characters (bidi controls included), no line or paragraph separators, no lone surrogates, no leading or trailing whitespace`,
    example: 'bob',
  });
