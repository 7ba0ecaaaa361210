import { describe, expect, it } from 'vitest';
import { persistenceWarnings } from './redis-persistence.check.js';

describe('persistenceWarnings', () => {
  it('is silent where every acknowledged message survives a restart and nothing is evicted', () => {
    expect(persistenceWarnings({ appendonly: 'yes', appendfsync: 'always', maxmemoryPolicy: 'noeviction' })).toEqual(
      [],
    );
  });

  it('says what is lost, and the setting that keeps it, for each weaker setting', () => {
    expect(persistenceWarnings({ appendonly: 'no', appendfsync: 'everysec', maxmemoryPolicy: 'noeviction' })).toEqual([
      expect.stringMatching(
        /^Redis: appendonly is off, so a Redis restart loses every queued message.*appendfsync always/,
      ),
    ]);
    expect(persistenceWarnings({ appendonly: 'yes', appendfsync: 'everysec', maxmemoryPolicy: 'noeviction' })).toEqual([
      expect.stringMatching(/^Redis: appendfsync is everysec, so a Redis crash can lose up to a second/),
    ]);
    expect(persistenceWarnings({ appendonly: 'yes', appendfsync: 'always', maxmemoryPolicy: 'allkeys-lru' })).toEqual([
      expect.stringMatching(/^Redis: maxmemory-policy is allkeys-lru, so a full Redis evicts queued messages/),
    ]);
  });

  it('warns when the settings cannot be read', () => {
    expect(persistenceWarnings(undefined)).toEqual([expect.stringMatching(/persistence is unknown/)]);
  });
});
