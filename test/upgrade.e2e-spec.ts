import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './support/gateway.js';
import { TestClient, UpgradeRefused } from './support/ws-client.js';

describe('upgrade', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.close());

  const refusal = async (url: string, protocols?: string[]) => {
    const error = await TestClient.open(url, { protocols }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UpgradeRefused);
    return error as UpgradeRefused;
  };

  it.each([
    ['no user parameter', '', 'missing user id'],
    ['an empty user', '?user=', 'missing user id'],
    ['a user with |', '?user=a%7Cb', 'no "|"'],
    ['a user with a control character', '?user=a%0Ab', 'control characters'],
    ['a user of 129 characters', `?user=${'u'.repeat(129)}`, '1-128 characters'],
    ['a user with surrounding spaces', '?user=%20bob', 'whitespace'],
  ])('refuses %s with HTTP 400 and a reason', async (_, query, reason) => {
    const error = await refusal(`ws://127.0.0.1:${gw.port}/ws${query}`);
    expect(error.status).toBe(400);
    expect(error.body).toContain(reason);
  });

  it('accepts 128-character ids and unusual Unicode', async () => {
    for (const user of ['u'.repeat(128), '🙂'.repeat(128), 'Zoë-山田', 'a b']) {
      const client = await TestClient.open(gw.wsUrl(user));
      await client.close();
    }
  });

  it('refuses an unknown subprotocol offered alone with HTTP 400', async () => {
    const error = await refusal(gw.wsUrl('alice'), ['chat.v9']);
    expect(error.status).toBe(400);
    expect(error.body).toContain('subprotocol');
  });
});
