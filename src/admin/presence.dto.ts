import { z } from 'zod';

/** `GET /admin/users/:id`: where the user is connected right now. */
export const presenceSchema = z
  .object({
    user: z.string(),
    online: z.boolean(),
    connections: z.array(
      z.object({
        id: z.number().int().positive().meta({ description: 'Connection id, as in the gateway logs' }),
        protocol: z.enum(['text', 'json']),
        openedAt: z.string().meta({ format: 'date-time', description: 'ISO 8601, UTC' }),
      }),
    ),
    nodes: z
      .array(z.string())
      .meta({ description: 'Gateway processes holding a connection of the user; empty when offline' }),
  })
  .meta({ id: 'Presence' });

export type Presence = z.infer<typeof presenceSchema>;

/** `DELETE /admin/users/:id/connections`. */
export const kickResultSchema = z
  .object({
    closed: z.number().int().nonnegative().meta({ description: 'Connections closed on this gateway process' }),
    otherNodes: z
      .number()
      .int()
      .nonnegative()
      .meta({ description: 'Other gateway processes asked to close theirs (CLUSTER=redis); 0 alone' }),
  })
  .meta({ id: 'KickResult' });

export type KickResult = z.infer<typeof kickResultSchema>;
