import type { Redis } from 'ioredis';

/** Redis's settings that decide whether an acknowledged message survives a Redis restart. */
export interface RedisPersistence {
  readonly appendonly?: string;
  readonly appendfsync?: string;
  readonly maxmemoryPolicy?: string;
}

/**
 * What the gateway would promise wrongly on these settings, one WARN line each (none when the
 * settings keep every promise). The README's cluster section says which setting keeps which.
 */
export function persistenceWarnings(settings: RedisPersistence | undefined): string[] {
  if (settings === undefined) {
    return [
      'Redis: CONFIG GET is not allowed here, so its persistence is unknown; acknowledged messages survive a Redis restart only with appendonly yes and appendfsync always',
    ];
  }
  const warnings: string[] = [];
  if (settings.appendonly !== 'yes') {
    warnings.push(
      'Redis: appendonly is off, so a Redis restart loses every queued message and idempotency record; set appendonly yes and appendfsync always to keep acknowledged messages',
    );
  } else if (settings.appendfsync !== 'always') {
    warnings.push(
      `Redis: appendfsync is ${settings.appendfsync ?? 'unknown'}, so a Redis crash can lose up to a second of acknowledged messages; set appendfsync always to keep them all`,
    );
  }
  if (settings.maxmemoryPolicy !== undefined && settings.maxmemoryPolicy !== 'noeviction') {
    warnings.push(
      `Redis: maxmemory-policy is ${settings.maxmemoryPolicy}, so a full Redis evicts queued messages silently; set maxmemory-policy noeviction, and a full Redis refuses new ones instead`,
    );
  }
  return warnings;
}

/** Reads the settings; `undefined` where CONFIG is disabled (many managed Redis services). */
export async function readPersistence(client: Redis): Promise<RedisPersistence | undefined> {
  try {
    const pairs = (await client.call('CONFIG', 'GET', 'appendonly', 'appendfsync', 'maxmemory-policy')) as string[];
    const settings: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) settings[pairs[i]!] = pairs[i + 1]!;
    return {
      appendonly: settings.appendonly,
      appendfsync: settings.appendfsync,
      maxmemoryPolicy: settings['maxmemory-policy'],
    };
  } catch {
    return undefined;
  }
}
