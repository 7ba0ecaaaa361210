import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig: limits that fit together', () => {
  it('derives SLOW_CONSUMER_BYTES from MAX_PAYLOAD_BYTES when it is not set', () => {
    expect(loadConfig({}).limits.slowConsumerBytes).toBe(8 * 1024 * 1024);
    expect(loadConfig({ MAX_PAYLOAD_BYTES: String(16 * 1024 * 1024) }).limits.slowConsumerBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ SLOW_CONSUMER_BYTES: '1048576' }).limits.slowConsumerBytes).toBe(1_048_576);
  });

  it('refuses a SLOW_CONSUMER_BYTES that cannot hold a window of the largest messages, naming both variables', () => {
    const load = () => loadConfig({ MAX_PAYLOAD_BYTES: '1048576', SLOW_CONSUMER_BYTES: '2097152' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^Invalid SLOW_CONSUMER_BYTES=2097152: expected at least 4 × MAX_PAYLOAD_BYTES \(4194304\)/);
  });

  it('refuses an INBOX_MAX_BYTES smaller than one message of the largest size', () => {
    expect(() => loadConfig({ INBOX_MAX_BYTES: '60000' })).toThrow(
      /^Invalid INBOX_MAX_BYTES=60000: expected at least MAX_PAYLOAD_BYTES \(65536\)/,
    );
    expect(loadConfig({ INBOX_MAX_BYTES: '65536' }).limits.inboxMaxBytes).toBe(65_536);
  });
});
