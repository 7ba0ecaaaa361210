// Offline inbox: senders write a backlog to users who are not connected, then those users
// connect and receive it.
//
// Time to store runs from the first send until the server has durably accepted every message.
// The seed protocol acknowledges nothing, so that moment is observed with probes:
// 1. Routing probe. After its backlog each sender sends one message to a live probe user. A server
//    handles one connection's frames in order, so when a sender's probe comes out, every frame
//    that sender wrote before it has been routed to the inbox.
// 2. Durability probe (`durabilityProbe: 'json'`, for a server whose inbox writes are batched and
//    committed after routing, as the gateway's are). Once every routing probe is in, a JSON
//    client sends one message to an offline user; its `sent queued` answer comes only after that
//    message is committed, and commits happen in order, so every earlier message is committed
//    too. The reference's in-memory inbox is written during routing, so it needs only step 1.
// The time includes the generator handing its writes to the kernel; the frames are encoded before
// the clock starts so that share is small.
//
// Time to drain runs from the moment the recipients start connecting (all at once) until the
// last backlog message has arrived, each recipient checking that its backlog came complete and
// in order. Anything still missing after DRAIN_TIMEOUT_MS is counted lost.
import {
  DRAIN_TIMEOUT_MS,
  JSON_EVENTS,
  JSON_SUBPROTOCOL,
  PLAIN_TEXT_SEPARATOR,
  STATUS_QUEUED,
} from '../../bench.constants.mjs';
import { connect } from '../client-connection.mjs';
import { connectMany } from '../connect-many.mjs';
import { messageBody, messageId, parseMessageId } from '../message-body.mjs';
import { between, cpuFigures, sample } from '../process-stats.mjs';
import { SequenceChecker } from '../sequence-checker.mjs';
import { TextFrameBatch } from '../text-frame-batch.mjs';
import { waitUntil } from '../wait.mjs';

/** Send stamp of backlog bodies: their latency means nothing, only pair and order are checked. */
const UNSTAMPED = 0;

export const DURABILITY_PROBES = Object.freeze(['none', 'json']);

/**
 * @param {{ url: string, server: { pid: number, pids: number[], cpu?: string }, users: number, perUser: number,
 *   warmupFraction: number, durabilityProbe: 'none' | 'json' }} options
 */
export async function runOffline(options) {
  const warmupPerUser = Math.max(1, Math.round(options.perUser * options.warmupFraction));
  await runRound({ ...options, perUser: warmupPerUser, tag: 'warm' });
  return runRound({ ...options, tag: 'run' });
}

/** One store-then-drain round; `tag` keeps its user names apart from any other round's. */
async function runRound({ url, server, users, perUser, durabilityProbe, tag }) {
  const total = users * perUser;
  const routingProbeUser = `${tag}-probe`;
  const durability = durabilityProbe === 'json' ? await openDurabilityProbe(url, tag) : null;
  let routingProbes = 0;
  let routedAt = 0;
  const routingProbe = await connect(url, routingProbeUser, {
    onMessage() {
      if (++routingProbes !== users) return;
      routedAt = performance.now();
      durability?.send();
    },
  });
  const senders = await connectMany(users, users, (i) => connect(url, `${tag}-s${i}`));
  const probeFrame = `${routingProbeUser}${PLAIN_TEXT_SEPARATOR}probe`;
  const backlogs = senders.map((ws, i) => buildBacklog(ws, `${tag}-r${i}`, i, perUser, probeFrame));

  const storeStart = sample(server);
  for (const backlog of backlogs) backlog.send();
  const routed = await waitUntil(() => routingProbes === users, DRAIN_TIMEOUT_MS);
  const durable = routed && (durability ? await durability.answered() : true);
  const storedAt = durability ? durability.answeredAt : routedAt;
  const storeEnd = sample(server);

  const checkers = Array.from({ length: users }, () => new SequenceChecker());
  let received = 0;
  let misrouted = 0;
  let drainedAt = 0;
  const scratch = { pair: 0, seq: 0, sentAtMicros: 0 };
  const drainStart = sample(server);
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
  const drainEnd = sample(server);

  for (const ws of [routingProbe, ...senders, ...recipients]) ws.terminate();
  durability?.close();

  const storeSeconds = ((durable ? storedAt : storeEnd.at) - storeStart.at) / 1000;
  const drainSeconds = ((drained ? drainedAt : drainEnd.at) - drainStart.at) / 1000;
  return {
    messages: total,
    durabilityProbe,
    storeSeconds,
    storedPerSecond: total / storeSeconds,
    drainSeconds,
    drainedPerSecond: total / drainSeconds,
    store: cpuFigures(between(storeStart, storeEnd, server)),
    drain: cpuFigures(between(drainStart, drainEnd, server)),
    correctness: {
      sent: total,
      received,
      lost: checkers.reduce((sum, checker) => sum + checker.lost(perUser), 0),
      outOfOrder: checkers.reduce((sum, checker) => sum + checker.outOfOrder, 0),
      misrouted,
      lostProbes: users - routingProbes + (durable ? 0 : 1),
      settled: durable && drained,
    },
  };
}

/** Every frame one sender will write, its routing probe last, encoded before the clock starts. */
function buildBacklog(ws, recipient, pair, perUser, probeFrame) {
  const batch = new TextFrameBatch(ws);
  const prefix = recipient + PLAIN_TEXT_SEPARATOR;
  for (let seq = 0; seq < perUser; seq++) batch.add(prefix + messageBody(messageId(pair, seq, UNSTAMPED)));
  batch.add(probeFrame);
  return batch;
}

/**
 * A JSON client whose one message to an offline user is answered once it is durable. `send` is
 * called from the last routing probe's handler, so no polling delay sits between the two.
 */
async function openDurabilityProbe(url, tag) {
  const probe = {
    answer: null,
    answeredAt: 0,
    send() {
      const data = { id: `${tag}-durability`, to: `${tag}-nobody`, body: 'probe' };
      ws.send(JSON.stringify({ event: JSON_EVENTS.send, data }));
    },
    /** True once the probe is answered `sent queued`; false on any other answer, or none. */
    async answered() {
      if (!(await waitUntil(() => probe.answer !== null, DRAIN_TIMEOUT_MS))) return false;
      return probe.answer.event === JSON_EVENTS.sent && probe.answer.data.status === STATUS_QUEUED;
    },
    close: () => ws.terminate(),
  };
  const ws = await connect(url, `${tag}-durability`, {
    subprotocol: JSON_SUBPROTOCOL,
    onMessage(data) {
      const frame = JSON.parse(data);
      if (frame.event !== JSON_EVENTS.sent && frame.event !== JSON_EVENTS.error) return;
      probe.answer = frame;
      probe.answeredAt = performance.now();
    },
  });
  return probe;
}
