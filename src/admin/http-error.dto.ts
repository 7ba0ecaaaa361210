import { z } from 'zod';

/** Every admin 4xx and 5xx: Nest's standard exception body, with the reason in `message`. */
export const httpErrorSchema = z
  .object({ statusCode: z.number().int().min(400).max(599), message: z.string(), error: z.string().optional() })
  .meta({ id: 'HttpError' });
