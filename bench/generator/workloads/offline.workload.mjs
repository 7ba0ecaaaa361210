// Offline inbox: senders write a backlog to users who are not connected, then those users
// connect and receive it.
//
// Time to store. The seed protocol acknowledges nothing, so "stored" is observed with a probe:
// after its backlog each sender sends one message to a live probe user. The server handles one
// connection's frames in order, so when a sender's probe comes out, every frame that sender wrote
// before it has been routed to the inbox. The time runs from the first send until the last probe
// arrives. It covers the generator handing its writes to the kernel too; the frames are built
// before the clock starts so that share is small. A server that stored asynchronously could let
// a probe overtake the backlog; then the drain below would come up short or out of order, and the
// run fails rather than reporting a flattering time.
//
// Time to drain: from the moment the recipients start connecting (all at once) until the last
// backlog message has arrived, each recipient checking that its 500 came complete and in order.
import { DRAIN_TIMEOUT_MS, PLAIN_TEXT_SEPARATOR } from '../../bench.constants.mjs';
import { connect, connectMany, cork, uncork } from '../client-connection.mjs';
import { messageBody, messageId, parseMessageId } from '../message-body.mjs';
import { between, sample } from '../process-stats.mjs';
import { SequenceChecker } from '../sequence-checker.mjs';
import { waitUntil } from '../wait.mjs';

/** Send stamp of backlog bodies: their latency means nothing, only pair and order are checked. */
const UNSTAMPED = 0;

/**
 * @param {{ url: string, serverPid: number, users: number, perUser: number,
 *   warmupFraction: number }} options
 */
export async function runOffline(options) {
  const { url, serverPid, users, perUser } = options;
  const warmupPerUser = Math.max(1, Math.round(perUser * options.warmupFraction));
  await runRound({ url, serverPid, users, perUser: warmupPerUser, tag: 'warm' });
  return runRound({ url, serverPid, users, perUser, tag: 'run' });
}

/** One store-then-drain round; `tag` keeps its user names apart from any other round's. */
async function runRound({ url, serverPid, users, perUser, tag }) {
  const total = users * perUser;
  const probeUser = `${tag}-probe`;
  let probes = 0;
  let storedAt = 0;
  const probe = await connect(url, probeUser, {
    onMessage() {
      if (++probes === users) storedAt = performance.now();
    },
  });
  const senders = await connectMany(users, users, (i) => connect(url, `${tag}-s${i}`));
  const backlogs = senders.map((_, i) => buildBacklog(`${tag}-r${i}`, i, perUser));
  const probeFrame = probeUser + PLAIN_TEXT_SEPARATOR + 'probe';

  const storeStart = sample(serverPid);
  senders.forEach((ws, i) => {
    cork(ws);
    for (const frame of backlogs[i]) ws.send(frame);
    ws.send(probeFrame);
    uncork(ws);
  });
  const stored = await waitUntil(() => probes === users, DRAIN_TIMEOUT_MS);
  const storeEnd = sample(serverPid);

  const checkers = Array.from({ length: users }, () => new SequenceChecker());
  let received = 0;
  let misrouted = 0;
  let drainedAt = 0;
  const scratch = { pair: 0, seq: 0, sentAtMicros: 0 };
  const drainStart = sample(serverPid);
  const recipients = await connectMany(users, users, (i) =>
    connect(url, `${tag}-r${i}`, {
      onMessage(data) {
        if (!parseMessageId(data.toString('latin1'), scratch) || scratch.pair !== i) misrouted++;
        else checkers[i].accept(scratch.seq);
        if (++received === total) drainedAt = performance.now();
      },
    }),
  );
  const drained = await waitUntil(() => received >= total, DRAIN_TIMEOUT_MS);
  const drainEnd = sample(serverPid);

  for (const ws of [probe, ...senders, ...recipients]) ws.terminate();

  const storeSeconds = ((stored ? storedAt : storeEnd.at) - storeStart.at) / 1000;
  const drainSeconds = ((drained ? drainedAt : drainEnd.at) - drainStart.at) / 1000;
  return {
    messages: total,
    storeSeconds,
    storedPerSecond: total / storeSeconds,
    drainSeconds,
    drainedPerSecond: total / drainSeconds,
    storeServerCpu: between(storeStart, storeEnd).serverCpu,
    drainServerCpu: between(drainStart, drainEnd).serverCpu,
    generatorCpu: between(storeStart, drainEnd).generatorCpu,
    correctness: {
      sent: total,
      received,
      lost: checkers.reduce((sum, checker) => sum + checker.lost(perUser), 0),
      outOfOrder: checkers.reduce((sum, checker) => sum + checker.outOfOrder, 0),
      misrouted,
      lostProbes: users - probes,
      settled: stored && drained,
    },
  };
}

/** Every frame one sender will write, built before the clock starts. */
function buildBacklog(recipient, pair, perUser) {
  const prefix = recipient + PLAIN_TEXT_SEPARATOR;
  return Array.from({ length: perUser }, (_, seq) => prefix + messageBody(messageId(pair, seq, UNSTAMPED)));
}
