// Real WebSocket clients for scripts/image-smoke.sh. They speak the plain-text protocol to a
// running gateway and exit 1 with one line saying what went wrong.
//
//   exchange URL          bob gets alice's message live; carol, offline at send time, gets hers
//                         on connect; a message for dave is left in the inbox
//   hold URL USER         stay connected until the server closes; succeed only on 1001
//   receive URL USER TEXT connect and expect TEXT as the first message
import WebSocket from 'ws';

/** A loopback round trip takes milliseconds; this only bounds how long a stuck gateway stalls CI. */
const WAIT_MS = 5_000;
/** The smoke test stops the container within seconds of `hold` connecting. */
const HOLD_MS = 30_000;
const GOING_AWAY = 1001;
/** Left in dave's inbox by `exchange`, read back after a restart by `receive`. */
const STORED_FOR_DAVE = 'kept across a restart';

function fail(message) {
  process.stderr.write(`image-smoke-client: ${message}\n`);
  process.exit(1);
}

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One user's connection. Messages are queued from the moment the socket exists: an inbox message
 * can arrive in the same packet as the upgrade response, and is emitted before an `await` on
 * `open` resumes.
 */
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

  close() {
    this.socket.close(1000);
  }
}

async function exchange(base) {
  const alice = await Client.connect(base, 'alice');
  const bob = await Client.connect(base, 'bob');
  alice.send('bob|hello');
  await bob.expect('hello');

  // One connection's frames are handled in order: once bob has the marker, the messages sent
  // before it are in the inbox, so carol's connect cannot overtake hers.
  alice.send('carol|sent while you were offline');
  alice.send(`dave|${STORED_FOR_DAVE}`);
  alice.send('bob|marker');
  await bob.expect('marker');

  const carol = await Client.connect(base, 'carol');
  await carol.expect('sent while you were offline');
  for (const client of [alice, bob, carol]) client.close();
}

async function hold(base, user) {
  const client = await Client.connect(base, user);
  const closed = new Promise((resolve) => client.socket.once('close', resolve));
  process.stdout.write('connected\n');
  const code = await within(closed, HOLD_MS, `the server to close ${user}`);
  if (code !== GOING_AWAY) throw new Error(`${user} was closed with ${code}, expected ${GOING_AWAY}`);
}

async function receive(base, user, text) {
  const client = await Client.connect(base, user);
  await client.expect(text);
  client.close();
}

const [mode, base, user, text] = process.argv.slice(2);
const modes = {
  exchange: () => exchange(base),
  hold: () => hold(base, user),
  receive: () => receive(base, user, text ?? STORED_FOR_DAVE),
};
if (!modes[mode] || !base) fail('usage: image-smoke-client.mjs exchange|hold|receive URL [USER [TEXT]]');
modes[mode]().then(
  () => process.exit(0),
  (error) => fail(error instanceof Error ? error.message : String(error)),
);
