// A sender and a receiver speaking the `im.v1.json` subprotocol, as a careful client would: the
// receiver acks every message it gets (all ids received in one read go out in one `ack` frame,
// the batching the `ids` array exists for), and a message is confirmed when its sender gets `sent`.
// Client ids are random, as the SDK's are (a UUID per message), followed by the latency stamp.
import { randomUUID } from 'node:crypto';
import { connect } from '../client-connection.mjs';
import { messageBody, messageId, nowMicros, parseMessageId } from '../message-body.mjs';
import { SequenceChecker } from '../sequence-checker.mjs';
import { TextFrameBatch } from '../text-frame-batch.mjs';
import { JSON_EVENTS, JSON_SUBPROTOCOL, KEPT_SERVER_ERROR_SAMPLES, STATUS_DELIVERED } from '../../bench.constants.mjs';

const CLIENT_ID_SEPARATOR = '.';
/** Where the stamp starts in a client id: after the 36 characters of a UUID and the separator. */
const STAMP_OFFSET = 37;

export class JsonPair {
  sent = 0;
  confirmed = 0;
  misrouted = 0;
  unexpected = 0;
  /** `sent` frames whose status was not `delivered` although the recipient was online. */
  notDelivered = 0;
  serverErrors = 0;
  serverErrorSamples = [];
  checker = new SequenceChecker();
  scratch = { pair: 0, seq: 0, sentAtMicros: 0 };
  pendingAcks = [];
  ackScheduled = false;

  /**
   * @param {number} index
   * @param {import('./pair.listener.mjs').PairListener} listener
   */
  constructor(index, listener) {
    this.index = index;
    this.listener = listener;
    this.senderUser = `s${index}`;
    this.receiverUser = `r${index}`;
    this.framePrefix = `{"event":"${JSON_EVENTS.send}","data":{"to":"${this.receiverUser}","id":"`;
    this.onReceiverFrame = this.onReceiverFrame.bind(this);
    this.onSenderFrame = this.onSenderFrame.bind(this);
    this.flushAcks = this.flushAcks.bind(this);
  }

  /**
   * Connects the receiver first, so no message of the pair is ever routed to the offline inbox.
   * In a cluster the receiver may connect to another node than the sender (`receiverUrl`).
   */
  async open(baseUrl, receiverUrl = baseUrl) {
    const subprotocol = JSON_SUBPROTOCOL;
    this.receiver = await connect(receiverUrl, this.receiverUser, { subprotocol, onMessage: this.onReceiverFrame });
    this.sender = await connect(baseUrl, this.senderUser, { subprotocol, onMessage: this.onSenderFrame });
    this.batch = new TextFrameBatch(this.sender);
  }

  get received() {
    return this.checker.received;
  }

  /** Sends `count` messages in one write; the client id carries the latency stamp after its UUID. */
  send(count) {
    const batch = this.batch;
    for (let i = 0; i < count; i++) {
      const id = messageId(this.index, this.sent++, nowMicros());
      batch.add(`${this.framePrefix}${randomUUID()}${CLIENT_ID_SEPARATOR}${id}","body":"${messageBody(id)}"}}`);
    }
    batch.send();
  }

  onReceiverFrame(data) {
    const frame = JSON.parse(data);
    if (frame.event !== JSON_EVENTS.message) {
      this.onOtherFrame(frame);
      return;
    }
    const message = frame.data;
    this.pendingAcks.push(message.id);
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      queueMicrotask(this.flushAcks);
    }
    const scratch = this.scratch;
    const intact =
      message.from === this.senderUser &&
      message.to === this.receiverUser &&
      parseMessageId(message.body, scratch) &&
      scratch.pair === this.index;
    if (!intact) {
      this.misrouted++;
      return;
    }
    this.checker.accept(scratch.seq);
    this.listener.onDelivered(this, scratch.sentAtMicros);
  }

  /** Runs once per read, after ws has emitted every message of it. */
  flushAcks() {
    this.ackScheduled = false;
    const ids = this.pendingAcks;
    this.pendingAcks = [];
    this.receiver.send(JSON.stringify({ event: JSON_EVENTS.ack, data: { ids } }));
  }

  onSenderFrame(data) {
    const frame = JSON.parse(data);
    if (frame.event !== JSON_EVENTS.sent) {
      this.onOtherFrame(frame);
      return;
    }
    this.confirmed++;
    if (frame.data.status !== STATUS_DELIVERED) this.notDelivered++;
    const sentAtMicros = parseMessageId(frame.data.id.slice(STAMP_OFFSET), this.scratch)
      ? this.scratch.sentAtMicros
      : 0;
    this.listener.onConfirmed(this, sentAtMicros);
  }

  onOtherFrame(frame) {
    if (frame.event !== JSON_EVENTS.error) {
      this.unexpected++;
      return;
    }
    this.serverErrors++;
    if (this.serverErrorSamples.length < KEPT_SERVER_ERROR_SAMPLES) this.serverErrorSamples.push(frame.data);
  }

  report() {
    return {
      sent: this.sent,
      received: this.checker.received,
      lost: this.checker.lost(this.sent),
      outOfOrder: this.checker.outOfOrder,
      misrouted: this.misrouted,
      unconfirmed: Math.max(0, this.sent - this.confirmed),
      notDelivered: this.notDelivered,
      unexpected: this.unexpected,
      serverErrors: this.serverErrors,
      serverErrorSamples: this.serverErrorSamples,
    };
  }

  close() {
    this.sender?.terminate();
    this.receiver?.terminate();
  }
}
