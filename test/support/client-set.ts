import type { TestGateway } from './gateway.js';
import { JsonClient } from './json-client.js';
import { TestClient } from './ws-client.js';

/** The clients a test opened against one gateway, closed together in `afterEach`. */
export class ClientSet {
  private readonly open: Array<{ close(): Promise<void> }> = [];

  constructor(private readonly gateway: () => TestGateway) {}

  async json(user: string): Promise<JsonClient> {
    return this.keep(await JsonClient.open(this.gateway().wsUrl(user)));
  }

  async text(user: string, options?: Parameters<typeof TestClient.open>[1]): Promise<TestClient> {
    return this.keep(await TestClient.open(this.gateway().wsUrl(user), options));
  }

  keep<T extends { close(): Promise<void> }>(client: T): T {
    this.open.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((c) => c.close().catch(() => undefined)));
  }
}
