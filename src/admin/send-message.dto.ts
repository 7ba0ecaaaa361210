import { z } from 'zod';
import { MAX_CLIENT_ID_CHARS, wellFormedProblem } from '../gateway/json.codec.js';
import { SYSTEM_SENDER } from './admin.constants.js';
import { userIdSchema } from './user-id.schema.js';

/**
 * A string held to the same rule as a socket `send`: a lone surrogate would reach the inbox as
 * U+FFFD, and two idempotency keys differing only there would share one message id.
 */
function wellFormed(value: string, ctx: z.RefinementCtx): void {
  const problem = wellFormedProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

/** `POST /admin/messages`. Unknown fields are refused, so a misspelt optional field is not silently dropped. */
export const sendMessageSchema = z
  .strictObject({
    from: userIdSchema.optional().meta({ description: `Sender, a user id; defaults to "${SYSTEM_SENDER}"` }),
    to: userIdSchema,
    body: z.string().superRefine(wellFormed).meta({
      description: 'Message text, well-formed UTF-16 (no lone surrogates), at most MAX_PAYLOAD_BYTES bytes of UTF-8',
    }),
    id: z
      .string()
      .min(1)
      .max(MAX_CLIENT_ID_CHARS)
      .superRefine(wellFormed)
      .optional()
      .meta({
        description: `Idempotency key, 1-${MAX_CLIENT_ID_CHARS} characters (no lone surrogates), per sender: a repeat answers the same messageId and the current status. A UUID when absent.`,
      }),
  })
  .meta({ id: 'SendMessage' });

export type SendMessageDto = z.infer<typeof sendMessageSchema>;

/**
 * `queued`: durably in the recipient's inbox. `delivered`: a recipient connection acked it (or a
 * plain-text recipient's socket took it). `pending` (202): a live recipient holds it and has not
 * acked within the wait; it will be delivered, or returned to the inbox if that connection closes.
 */
export const sendResultSchema = z
  .object({
    id: z.string(),
    messageId: z.string(),
    status: z.enum(['queued', 'delivered', 'pending']),
  })
  .meta({ id: 'SendResult' });

export type SendResult = z.infer<typeof sendResultSchema>;
