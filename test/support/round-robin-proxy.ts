import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer in front of several gateways, as nginx or a cloud balancer would be: each
 * new connection goes to the next backend in turn, skipping one that refuses it. No stickiness,
 * so a client that reconnects after its node died lands on a live one.
 */
export class RoundRobinProxy {
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly ports: readonly number[],
  ) {}

  static async start(ports: readonly number[]): Promise<RoundRobinProxy> {
    const server = createServer();
    const proxy = new RoundRobinProxy(server, ports);
    server.on('connection', (client) => proxy.forward(client, 0));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  wsUrl(user: string): string {
    return `ws://127.0.0.1:${this.port}/ws?user=${encodeURIComponent(user)}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket, tried: number): void {
    if (tried >= this.ports.length) {
      client.destroy();
      return;
    }
    const port = this.ports[this.next++ % this.ports.length]!;
    client.pause();
    const upstream = connect(port, '127.0.0.1');
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.track(client);
      this.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    upstream.once('error', () => {
      if (!connected && !client.destroyed) this.forward(client, tried + 1);
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
