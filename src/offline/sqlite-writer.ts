import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteSynchronous } from '../config/app-config.js';
import { type InboxWrite, MAX_SENT_RECORDS, type WriteResult } from './offline-message.store.js';
import type { UsageWritten } from './inbox-cache.js';
import { PACKED_NUMBERS, PACKED_STRINGS, PackedMessages, PackedSentRecords } from './packed-messages.js';
import { BUSY_TIMEOUT_MS, SENT_APPEND_PAGE, SQLITE_WRITES } from './sqlite-schema.js';

/** The sweep of delivered rows starts once the writer had no job for this long. */
const SWEEP_IDLE_MS = 100;
/** Delivered rows older than this are swept a chunk between jobs, however busy the writer is. */
const SWEEP_MAX_WAIT_MS = 2_000;
/** Rows one sweep transaction deletes at most: a job waits behind one chunk, never a whole backlog. */
const SWEEP_CHUNK = 2_000;
/** A clean close sweeps what is left for at most this long, within the shutdown's deadline. */
const SWEEP_ON_CLOSE_MS = 1_000;

/**
 * A write as flat arrays of strings and numbers (and the records' client ids as one buffer): the
 * structured clone to the writer thread copies those several times faster than an object per
 * message or record, and it runs once per message. The service's appends and records come packed
 * already.
 */
function flatten({ append, remove, sent, quota }: InboxWrite) {
  const messages = PackedMessages.of(append);
  const records = PackedSentRecords.of(sent);
  return {
    strings: messages.strings,
    numbers: messages.numbers,
    remove: remove.map((m) => m.seq),
    removeTo: remove.map((m) => m.to),
    // -1: not known, read from the row.
    removeBytes: remove.map((m) => m.bytes ?? -1),
    sentSenders: records.senders,
    sentDelivered: records.deliveredFlags,
    sentExpiresAt: records.expiresAts,
    sentClientIds: records.clientIdBytes,
    sentClientIdEnds: records.clientIdEnds,
    quota,
  };
}

/**
 * A write's result, with where its sent records went: the ones not skipped (dropped with a refused
 * message), in order, are rows `sentFirstSeq`, `sentFirstSeq + 1`, ... of `sent_log`.
 */
export interface LoggedWrite extends WriteResult, UsageWritten {
  /**
   * Per appended message, in order: its body's UTF-8 size if it was inserted, otherwise -1 (refused
   * by the quota, or stored already).
   */
  readonly sizes: readonly number[];
  readonly sentFirstSeq: number;
  /** Indexes, in the batch's sent records, of those not written. */
  readonly sentSkipped: readonly number[];
}

/** A purge's result: how many messages it deleted, and the usage rows it wrote. */
export interface PurgeResult extends UsageWritten {
  readonly purged: number;
}

/**
 * The writer thread, as a self-contained CommonJS script (so it runs the same from `dist/` and
 * from the TypeScript sources under test). It owns the only write connection: a commit, with its
 * fsync, blocks this thread, never the event loop that serves the sockets.
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const s = {};
for (const [name, sql] of Object.entries(workerData.sql)) s[name] = db.prepare(sql);
s.seqsBetween.pluck();
s.sweepCut.pluck();

// Usage of the recipients one transaction touches: read once, written back once. \`was\` is the
// row's stamp before, \`inserted\` the messages this transaction added to the inbox, \`through\`
// the inbox's watermark: its rows up to that seq were delivered and await the sweep.
function usageOf(usage, recipient) {
  let u = usage.get(recipient);
  if (u === undefined) {
    const row = s.usage.get(recipient);
    u = row === undefined
      ? { messages: 0, bytes: 0, was: 0, inserted: 0, through: 0 }
      : { messages: row.messages, bytes: row.bytes, was: row.stamp, inserted: 0, through: row.delivered_through };
    usage.set(recipient, u);
  }
  return u;
}
// Writes back the usage rows under a stamp drawn for this transaction, and answers them: a store
// that caches inboxes checks its copy against them (\`UsageWritten\`).
function saveUsage(usage) {
  const stamp = 1 + Math.floor(Math.random() * 2 ** 52);
  const usageTo = [], usageMessages = [], usageBytes = [], usageWas = [], usageInserted = [];
  for (const [recipient, u] of usage) {
    if (u.messages > 0 || u.through > 0) s.setUsage.run(recipient, u.messages, u.bytes, stamp, u.through);
    else s.dropUsage.run(recipient);
    usageTo.push(recipient);
    usageMessages.push(u.messages);
    usageBytes.push(u.bytes);
    usageWas.push(u.was);
    usageInserted.push(u.inserted);
  }
  return { stamp, usageTo, usageMessages, usageBytes, usageWas, usageInserted };
}
function removed(usage, recipient, bytes) {
  const u = usageOf(usage, recipient);
  u.messages -= 1;
  u.bytes -= bytes;
}

// Removals that come with their size, by recipient, each recipient's in the order given: a drain
// removes an inbox's messages in ascending seq, so they form runs.
function runsByRecipient(remove, removeTo, removeBytes) {
  const runs = new Map();
  for (let i = 0; i < remove.length; i++) {
    if (removeBytes[i] < 0) continue;
    const to = removeTo[i];
    const run = runs.get(to);
    if (run === undefined) runs.set(to, [i]);
    else run.push(i);
  }
  return runs;
}

// Removes \`indexes\` (ascending seqs of one inbox, a run; those under the watermark were removed
// already). When the inbox holds exactly those in the run's span and nothing between its
// watermark and the run, the run only moves the watermark: the rows stay, unread and uncounted,
// until the sweep deletes them when the writer is idle (a drain's removals then cost the writer a
// read of the index instead of a delete from the table and both its indexes). When it holds
// exactly those but something before them, one \`DELETE ... BETWEEN\`. Otherwise (a message in
// the span is not removed, one is gone already) one by one, as a removal always was.
function removeRun(usage, to, indexes, remove, removeBytes) {
  const u = usageOf(usage, to);
  let a = 0;
  while (a < indexes.length && remove[indexes[a]] <= u.through) a++;
  if (a === indexes.length) return;
  const first = remove[indexes[a]], last = remove[indexes[indexes.length - 1]];
  const held = s.seqsBetween.all(to, first, last);
  let exact = held.length === indexes.length - a;
  for (let k = 0; exact && k < held.length; k++) exact = held[k] === remove[indexes[a + k]];
  if (exact) {
    if (s.heldBefore.get(to, u.through, first) === undefined) {
      u.through = last;
      unswept.add(to);
    } else {
      s.removeBetween.run(to, first, last);
    }
    for (let k = a; k < indexes.length; k++) removed(usage, to, removeBytes[indexes[k]]);
    return;
  }
  for (let k = a; k < indexes.length; k++) {
    const i = indexes[k];
    if (s.remove.run(remove[i]).changes === 1) removed(usage, to, removeBytes[i]);
  }
}

// Recipients whose inbox has rows under its watermark, and since when the oldest of them waits:
// swept when the writer is idle, or a chunk after each job once they waited too long.
const unswept = new Set(s.watermarks.pluck().all());
let unsweptSince = unswept.size > 0 ? Date.now() : 0;
let sweepTimer;

// Deletes an inbox's rows under its watermark now, within the caller's transaction: a message
// must go in under it (it returned to the inbox with its old seq, or its id is a delivered row's).
function sweepNow(usage, recipient) {
  const u = usageOf(usage, recipient);
  if (u.through === 0) return;
  s.sweep.run(recipient, u.through);
  u.through = 0;
  unswept.delete(recipient);
}

// One chunk of the idle sweep: up to SWEEP_CHUNK rows of \`recipient\`'s inbox under its watermark
// (as the file has it now). True once none is left; the watermark is then cleared. The usage row's
// stamp stays: no message the inbox holds changed.
const sweepChunk = db.transaction((recipient) => {
  const row = s.usage.get(recipient);
  if (row === undefined || row.delivered_through === 0) return true;
  const cut = s.sweepCut.get(recipient, row.delivered_through, ${SWEEP_CHUNK});
  if (cut !== undefined) {
    s.sweepBefore.run(recipient, cut);
    return false;
  }
  s.sweep.run(recipient, row.delivered_through);
  if (row.messages === 0) s.dropUsage.run(recipient);
  else s.clearWatermark.run(recipient);
  return true;
});

// A chunk of the first inbox to sweep; it leaves the set once nothing is left under its watermark.
function sweepNext() {
  const recipient = unswept.values().next().value;
  if (sweepChunk(recipient)) unswept.delete(recipient);
}

function sweepSome() {
  sweepTimer = undefined;
  if (unswept.size === 0) return;
  try {
    sweepNext();
  } catch {
    // Another process holds the write lock past the busy timeout: tried again when next idle.
    sweepTimer = setTimeout(sweepSome, ${SWEEP_IDLE_MS});
    return;
  }
  if (unswept.size === 0) unsweptSince = 0;
  // A timer, not a loop: a job that came meanwhile goes first.
  else sweepTimer = setTimeout(sweepSome, 0);
}

// What an earlier process left (it crashed, or its close ran out of time) goes once idle too.
if (unswept.size > 0) sweepTimer = setTimeout(sweepSome, ${SWEEP_IDLE_MS});

// After each job: the sweep starts once no job came for SWEEP_IDLE_MS, or goes on a chunk at a
// time between jobs once the oldest watermark waited SWEEP_MAX_WAIT_MS.
function sweepLater() {
  clearTimeout(sweepTimer);
  if (unswept.size === 0) {
    unsweptSince = 0;
    return;
  }
  const now = Date.now();
  if (unsweptSince === 0) unsweptSince = now;
  sweepTimer = setTimeout(sweepSome, now - unsweptSince >= ${SWEEP_MAX_WAIT_MS} ? 0 : ${SWEEP_IDLE_MS});
}

// The parameters of one page of sent records (\`appendSentPage\`), reused by every write.
const page = new Array(${SENT_APPEND_PAGE * 4});

// Whether the inbox holds a message with \`id\` that was not delivered. One that was (under its
// inbox's watermark) is swept first: the id is free again.
function liveStored(usage, id) {
  const row = s.stored.get(id);
  if (row === undefined) return false;
  if (row.seq > usageOf(usage, row.recipient).through) return true;
  sweepNow(usage, row.recipient);
  return false;
}

// The batch comes flattened (see \`flatten\`): PACKED_STRINGS strings and PACKED_NUMBERS numbers
// per message, in the order of \`PackedMessages\`; per record (\`PackedSentRecords\`) a sender, and
// in typed columns delivered (1) or not, its expiry and where its client id ends in their UTF-8.
const write = db.transaction(({ strings, numbers, remove, removeTo, removeBytes, sentSenders, sentDelivered, sentExpiresAt, sentClientIds, sentClientIdEnds, quota }) => {
  const usage = new Map();
  // Removals first: what was delivered frees room for what arrives in the same write. A removal
  // that comes with its recipient and size deletes without reading the row, in runs of ascending
  // seqs (\`removeRun\`); one without reads the row for them.
  for (const [to, indexes] of runsByRecipient(remove, removeTo, removeBytes)) {
    for (let a = 0, b = 1; a < indexes.length; a = b, b = a + 1) {
      while (b < indexes.length && remove[indexes[b]] > remove[indexes[b - 1]]) b++;
      removeRun(usage, to, indexes.slice(a, b), remove, removeBytes);
    }
  }
  for (let i = 0; i < remove.length; i++) {
    if (removeBytes[i] >= 0) continue;
    const row = s.removing.get(remove[i]);
    if (row === undefined || remove[i] <= usageOf(usage, row.recipient).through) continue;
    s.remove.run(remove[i]);
    removed(usage, row.recipient, row.bytes);
  }
  const refused = [];
  // Per append, in order, the body's UTF-8 size if it was inserted, or -1 (refused, or stored
  // already: a resend of a message the inbox holds).
  const sizes = [];
  // Sent records of refused messages, by sender and client id: a resend must be checked again.
  const dropped = new Set();
  for (let i = 0, n = 0; i < strings.length; i += ${PACKED_STRINGS}, n += ${PACKED_NUMBERS}) {
    const id = strings[i], to = strings[i + 1], from = strings[i + 2], clientId = strings[i + 3], body = strings[i + 4];
    const bytes = Buffer.byteLength(body);
    const u = usageOf(usage, to);
    if (numbers[n] <= u.through) sweepNow(usage, to);
    const over = quota !== undefined && (u.messages + 1 > quota.maxMessages || u.bytes + bytes > quota.maxBytes);
    if (over && !liveStored(usage, id)) {
      refused.push(id);
      sizes.push(-1);
      if (clientId !== null) dropped.add(from + '\\n' + clientId);
      continue;
    }
    let { changes } = s.insert.run(numbers[n], id, to, from, clientId, body, numbers[n + 1], numbers[n + 2]);
    if (changes === 0 && !liveStored(usage, id)) {
      // The id is a delivered row's, under its inbox's watermark: that one goes, this one comes in.
      changes = s.insert.run(numbers[n], id, to, from, clientId, body, numbers[n + 1], numbers[n + 2]).changes;
    }
    if (changes === 1) {
      u.messages += 1;
      u.bytes += bytes;
      u.inserted += 1;
      sizes.push(bytes);
    } else {
      sizes.push(-1);
    }
  }
  // Appended rows get consecutive seqs (AUTOINCREMENT: one past the largest ever given), from the first one's on;
  // the driver indexes them by that, skipping the records dropped here.
  let sentFirstSeq = 0;
  let lastSentSeq = 0;
  const sentSkipped = [];
  // A full page goes in one statement, whose rows take consecutive seqs in the order listed.
  let paged = 0;
  const clientIds = Buffer.from(sentClientIds.buffer, sentClientIds.byteOffset, sentClientIds.byteLength);
  for (let r = 0, start = 0; r < sentSenders.length; start = sentClientIdEnds[r++]) {
    const sender = sentSenders[r], clientId = clientIds.toString('utf8', start, sentClientIdEnds[r]);
    if (dropped.size > 0 && dropped.has(sender + '\\n' + clientId)) {
      sentSkipped.push(r);
      continue;
    }
    const at = 4 * paged;
    page[at] = sender;
    page[at + 1] = clientId;
    page[at + 2] = sentDelivered[r];
    page[at + 3] = sentExpiresAt[r];
    if (++paged < ${SENT_APPEND_PAGE}) continue;
    lastSentSeq = Number(s.appendSentPage.run(page).lastInsertRowid);
    if (sentFirstSeq === 0) sentFirstSeq = lastSentSeq - ${SENT_APPEND_PAGE} + 1;
    paged = 0;
  }
  for (let at = 0; at < 4 * paged; at += 4) {
    lastSentSeq = Number(s.appendSent.run(page[at], page[at + 1], page[at + 2], page[at + 3]).lastInsertRowid);
    if (sentFirstSeq === 0) sentFirstSeq = lastSentSeq;
  }
  // The log's oldest rows beyond its cap go as new ones come, a few per write, not millions at
  // once in the minute's purge (which blocked this thread while records piled up).
  if (lastSentSeq > workerData.maxSentRecords) s.trimSent.run(lastSentSeq - workerData.maxSentRecords);
  return { refused, sizes, sentFirstSeq, sentSkipped, ...saveUsage(usage) };
});
const purge = db.transaction((now, maxSentRecords) => {
  s.purgeSent.run(now);
  s.capSent.run(maxSentRecords);
  const usage = new Map();
  // Whatever the idle sweep left, this process's or another's: the expired rows below count then.
  for (const recipient of s.watermarks.all()) sweepNow(usage, recipient);
  const rows = s.purge.all(now);
  for (const row of rows) removed(usage, row.recipient, row.bytes);
  return { purged: rows.length, ...saveUsage(usage) };
});
parentPort.on('message', (job) => {
  try {
    if (job.kind === 'write') parentPort.postMessage({ id: job.id, result: write(job.batch) });
    else if (job.kind === 'purge') parentPort.postMessage({ id: job.id, result: purge(job.now, job.maxSentRecords) });
    else if (job.kind === 'probe') parentPort.postMessage({ id: job.id, result: s.probe.run(Date.now()).changes });
    else {
      clearTimeout(sweepTimer);
      // A clean stop leaves no delivered row behind, unless that takes too long.
      const until = Date.now() + ${SWEEP_ON_CLOSE_MS};
      try {
        while (unswept.size > 0 && Date.now() < until) sweepNext();
      } catch {
        // The write lock held elsewhere: the next start sweeps them (or its first purge).
      }
      unswept.clear();
      db.close();
      parentPort.postMessage({ id: job.id });
      parentPort.close();
    }
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error) });
  }
  sweepLater();
});
`;

type Job =
  | { kind: 'write'; batch: ReturnType<typeof flatten> }
  | { kind: 'purge'; now: number; maxSentRecords: number }
  | { kind: 'probe' }
  | { kind: 'close' };

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** The main thread's handle on the writer thread: each job answers with a promise. */
export class SqliteWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  private failure: Error | undefined;

  /** `maxSentRecords`: the sent log's cap, kept as records are appended (MAX_SENT_RECORDS). */
  constructor(path: string, synchronous: SqliteSynchronous, maxSentRecords = MAX_SENT_RECORDS) {
    this.worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: {
        path,
        synchronous: synchronous.toUpperCase(),
        busyTimeoutMs: BUSY_TIMEOUT_MS,
        maxSentRecords,
        sql: SQLITE_WRITES,
        driverPath: createRequire(import.meta.url).resolve('better-sqlite3'),
      },
    });
    this.worker.on('message', (reply: Reply) => this.answer(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`SQLite writer thread exited (code ${code})`)));
  }

  /** The thread is alive and has not failed. */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  write(batch: InboxWrite): Promise<LoggedWrite> {
    return this.run({ kind: 'write', batch: flatten(batch) }) as Promise<LoggedWrite>;
  }

  async probe(): Promise<void> {
    await this.run({ kind: 'probe' });
  }

  purge(now: number, maxSentRecords: number): Promise<PurgeResult> {
    return this.run({ kind: 'purge', now, maxSentRecords }) as Promise<PurgeResult>;
  }

  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    await this.run({ kind: 'close' });
    await exited;
  }

  private run(job: Job): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...job, id });
    });
  }

  private answer({ id, result, error }: Reply): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (error === undefined) waiter.resolve(result);
    else waiter.reject(new Error(error));
  }

  /** The thread is gone: every pending and later job fails, so nothing is ever reported stored. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }
}
