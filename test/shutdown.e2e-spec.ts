import { describe, expect, it } from 'vitest';
import { startGateway } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';
import { TestClient, withTimeout } from './support/ws-client.js';

describe('shutdown while clients are leaving', () => {
  it('finishes at once when connections close by themselves while it hands their messages back', async () => {
    // The gateway lists its connections, hands their messages back to the inbox and waits for the
    // commit while the clients' own close handshakes finish: a connection that closed meanwhile
    // must not be waited on (under load, one was, until the shutdown hook timed out).
    for (let round = 0; round < 5; round++) {
      const gw = await startGateway({});
      // Bob never acks: his messages go back to the inbox at shutdown, a commit to wait for.
      const bob = await JsonClient.open(gw.wsUrl('bob'));
      const alice = await JsonClient.open(gw.wsUrl('alice'));
      const plain = await Promise.all(['carol', 'dave', 'erin'].map((u) => TestClient.open(gw.wsUrl(u))));
      for (let i = 0; i < 50; i++) alice.send(`m${i}`, 'bob', `hello ${i}`);
      await bob.all('message', 50);
      const leaving = [bob.close(), alice.close(), ...plain.map((c) => c.close())];
      await withTimeout(gw.close(), `gateway closed (round ${round})`, 3_000);
      await Promise.all(leaving);
    }
    expect(true).toBe(true);
  });
});
