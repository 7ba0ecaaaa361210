// A sender and a receiver speaking the seed protocol: the sender writes `to|content`, the receiver
// gets `content` and nothing comes back, so a message is confirmed when it is received.
import { connect } from '../client-connection.mjs';
import { messageBody, messageId, nowMicros, parseMessageId } from '../message-body.mjs';
import { SequenceChecker } from '../sequence-checker.mjs';
import { TextFrameBatch } from '../text-frame-batch.mjs';
import { PLAIN_TEXT_SEPARATOR } from '../../bench.constants.mjs';

export class PlainTextPair {
  sent = 0;
  misrouted = 0;
  unexpected = 0;
  checker = new SequenceChecker();
  /** Reused by every parse so the receive path allocates nothing of its own. */
  scratch = { pair: 0, seq: 0, sentAtMicros: 0 };

  /**
   * @param {number} index
   * @param {import('./pair.listener.mjs').PairListener} listener
   */
  constructor(index, listener) {
    this.index = index;
    this.listener = listener;
    this.senderUser = `s${index}`;
    this.receiverUser = `r${index}`;
    this.framePrefix = this.receiverUser + PLAIN_TEXT_SEPARATOR;
    this.onReceiverFrame = this.onReceiverFrame.bind(this);
    this.onSenderFrame = this.onSenderFrame.bind(this);
  }

  /**
   * Connects the receiver first, so no message of the pair is ever routed to the offline inbox.
   * In a cluster the receiver may connect to another node than the sender (`receiverUrl`).
   */
  async open(baseUrl, receiverUrl = baseUrl) {
    this.receiver = await connect(receiverUrl, this.receiverUser, { onMessage: this.onReceiverFrame });
    this.sender = await connect(baseUrl, this.senderUser, { onMessage: this.onSenderFrame });
    this.batch = new TextFrameBatch(this.sender);
  }

  /** Messages received: the seed protocol has no other confirmation. */
  get confirmed() {
    return this.checker.received;
  }

  get received() {
    return this.checker.received;
  }

  /** Sends `count` messages in one write. */
  send(count) {
    const batch = this.batch;
    for (let i = 0; i < count; i++) {
      batch.add(this.framePrefix + messageBody(messageId(this.index, this.sent++, nowMicros())));
    }
    batch.send();
  }

  onReceiverFrame(data) {
    const scratch = this.scratch;
    if (!parseMessageId(data.toString('latin1'), scratch) || scratch.pair !== this.index) {
      this.misrouted++;
      return;
    }
    this.checker.accept(scratch.seq);
    this.listener.onDelivered(this, scratch.sentAtMicros);
    this.listener.onConfirmed(this, scratch.sentAtMicros);
  }

  /** The seed protocol answers the sender nothing; anything here is reported, not fatal. */
  onSenderFrame() {
    this.unexpected++;
  }

  report() {
    return {
      sent: this.sent,
      received: this.checker.received,
      lost: this.checker.lost(this.sent),
      outOfOrder: this.checker.outOfOrder,
      misrouted: this.misrouted,
      unconfirmed: 0,
      notDelivered: 0,
      unexpected: this.unexpected,
      serverErrors: 0,
      serverErrorSamples: [],
    };
  }

  close() {
    this.sender?.terminate();
    this.receiver?.terminate();
  }
}
