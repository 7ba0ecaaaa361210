// What a workload hears from its pairs. Plain methods on one long-lived object rather than
// per-message callbacks, so the receive path creates no closures.

/**
 * @typedef {object} PairListener
 * @property {(pair: object, sentAtMicros: number) => void} onDelivered the receiver got a message
 * @property {(pair: object, sentAtMicros: number) => void} onConfirmed the sender learnt that a
 *   message is done: for the seed protocol on receipt, for JSON on `sent`
 */

export {};
