// Real WebSocket clients for scripts/cluster-smoke.sh. They speak the plain-text protocol through
// nginx to three gateway replicas and ask each replica's admin API which users it holds.
//
//   node cluster-smoke-client.mjs PROXY_URL ADMIN_TOKEN NODE_ID=URL NODE_ID=URL NODE_ID=URL
//
// Prints one `ok: ...` line per check that held. On the first one that does not, prints
// `step <name>: <what went wrong>` to stderr and exits 1; the shell script reports that step.
import WebSocket from 'ws';

/** Loopback round trips take milliseconds; this only bounds how long a stuck cluster stalls CI. */
const WAIT_MS = 5_000;
const POLL_MS = 50;

const [proxyUrl, adminToken, ...nodeArgs] = process.argv.slice(2);
if (!proxyUrl || !adminToken || nodeArgs.length < 3) {
  process.stderr.write('usage: cluster-smoke-client.mjs PROXY_URL ADMIN_TOKEN NODE_ID=URL x3\n');
  process.exit(2);
}
/** [nodeId, base http URL] of each replica, reached directly rather than through nginx. */
const nodes = nodeArgs.map((arg) => {
  const at = arg.indexOf('=');
  return [arg.slice(0, at), arg.slice(at + 1)];
});

let step = 'setup';
const open = [];

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One user's connection; messages are queued from the moment the socket exists. */
class Client {
  #received = [];
  #waiting = [];

  constructor(base, user) {
    this.user = user;
    this.socket = new WebSocket(`${base}/ws?user=${encodeURIComponent(user)}`);
    this.socket.on('message', (data) => {
      const text = data.toString();
      const waiter = this.#waiting.shift();
      if (waiter) waiter(text);
      else this.#received.push(text);
    });
    open.push(this);
  }

  static async connect(base, user) {
    const client = new Client(base, user);
    const opened = new Promise((resolve, reject) => {
      client.socket.once('open', resolve);
      client.socket.once('error', reject);
      client.socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade of ${user} refused with HTTP ${response.statusCode}`)),
      );
    });
    await within(opened, WAIT_MS, `${user} to connect`);
    return client;
  }

  send(text) {
    this.socket.send(text);
  }

  async expect(expected) {
    const next =
      this.#received.length > 0
        ? Promise.resolve(this.#received.shift())
        : new Promise((resolve) => this.#waiting.push(resolve));
    const text = await within(next, WAIT_MS, `${this.user} to receive ${JSON.stringify(expected)}`);
    if (text !== expected)
      throw new Error(`${this.user} received ${JSON.stringify(text)}, expected ${JSON.stringify(expected)}`);
  }
}

async function presenceOn(base, user) {
  const response = await fetch(`${base}/admin/users/${encodeURIComponent(user)}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (!response.ok) throw new Error(`GET ${base}/admin/users/${user} answered ${response.status}`);
  return response.json();
}

/** The replica holding `user`'s connection, asked of each replica directly; polled until one does. */
async function replicaOf(user) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    for (const [nodeId, base] of nodes) {
      const presence = await presenceOn(base, user);
      if (presence.connections.length > 0) return nodeId;
    }
    if (Date.now() > deadline) throw new Error(`no replica reports a connection of ${user}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function main() {
  step = 'balance';
  // Three upgrades through nginx's round robin land on three different replicas.
  const users = ['alice', 'bob', 'dave'];
  const clients = {};
  const placed = {};
  for (const user of users) {
    clients[user] = await Client.connect(proxyUrl, user);
    placed[user] = await replicaOf(user);
  }
  const where = users.map((user) => `${user}@${placed[user]}`).join(' ');
  if (new Set(Object.values(placed)).size !== nodes.length)
    throw new Error(`upgrades through nginx did not reach every replica: ${where}`);
  console.log(`ok: three upgrades through nginx reached three replicas (${where})`);

  // Reported, not judged: which replica's admin API sees bob where, in cluster mode, through
  // the shared presence.
  const asked = nodes.find(([nodeId]) => nodeId !== placed.bob);
  const seen = await presenceOn(asked[1], 'bob');
  console.log(`info: ${asked[0]}'s admin API reports bob on nodes ${JSON.stringify(seen.nodes)}`);

  step = 'cross-replica live';
  clients.alice.send('bob|hello from alice');
  await clients.bob.expect('hello from alice');
  clients.bob.send('alice|hello from bob');
  await clients.alice.expect('hello from bob');
  console.log(`ok: alice (${placed.alice}) and bob (${placed.bob}) exchanged messages live`);

  step = 'cross-replica inbox';
  // carol is offline: a message for her, accepted by alice's replica, waits in the shared inbox,
  // and she receives it on connecting to the replica neither alice nor bob is on (directly, so
  // the check does not depend on where the round robin points next). The admin API answers only
  // once the message is durably queued, so carol connects after that without guessing a delay.
  const from = nodes.find(([nodeId]) => nodeId === placed.alice);
  const response = await fetch(`${from[1]}/admin/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: 'alice', to: 'carol', body: 'kept for carol' }),
  });
  const answer = await response.json();
  if (response.status !== 200 || answer.status !== 'queued')
    throw new Error(`POST /admin/messages on ${from[0]} answered ${response.status} ${JSON.stringify(answer)}`);
  const other = nodes.find(([nodeId]) => nodeId === placed.dave);
  const carol = await Client.connect(other[1].replace(/^http/, 'ws'), 'carol');
  await carol.expect('kept for carol');
  console.log(`ok: carol received on ${other[0]} a message queued for her by ${from[0]}`);
}

main().then(
  () => {
    for (const client of open) client.socket.close(1000);
  },
  (error) => {
    process.stderr.write(`step ${step}: ${error.message}\n`);
    for (const client of open) client.socket.terminate();
    process.exit(1);
  },
);
