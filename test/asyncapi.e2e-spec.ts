import fc from 'fast-check';
import { load } from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../src/connections/close-code.js';
import type { OutboundCodec } from '../src/connections/outbound-codec.js';
import { isValidUserId } from '../src/connections/user-id.js';
import { JSON_SUBPROTOCOL } from '../src/gateway/gateway.constants.js';
import * as jsonCodec from '../src/gateway/json.codec.js';
import { decodePlainText, encodePlainText } from '../src/gateway/plain-text.codec.js';
import { ProtocolError } from '../src/gateway/protocol-error.js';
import { ErrorCode } from '../src/messages/error-code.js';
import type { ImMessage } from '../src/messages/im-message.js';
import type { DeliveryStatus, SendFailure } from '../src/messages/send-listener.js';
import { messageIdFor, PlainMessageIds } from '../src/routing/message-id.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';
import { resolvePointer, SchemaChecker } from './support/json-schema-subset.js';
import { TestClient } from './support/ws-client.js';

/*
 * The AsyncAPI document is a contract: this suite holds it to the codecs and to a running gateway.
 * Outbound events are found by calling every encoder the JSON codec exports; inbound events by
 * asking the decoder itself which event names it knows (see `decoderKnows`); then the documented
 * examples go over real sockets and every frame that comes back is checked against the document.
 */

const DOCUMENT_PATH = fileURLToPath(new URL('../docs/asyncapi.yaml', import.meta.url));
const SOURCE_DIR = fileURLToPath(new URL('../src/', import.meta.url));
const USER_ID_REF = '#/components/schemas/UserId';

interface Ref {
  readonly $ref: string;
}
interface Operation {
  readonly action: string;
  readonly channel: Ref;
  readonly messages?: readonly Ref[];
  readonly reply?: { readonly channel?: Ref; readonly messages?: readonly Ref[] };
}
interface Message {
  readonly payload: unknown;
  readonly examples?: ReadonlyArray<{ readonly name?: string; readonly payload: unknown }>;
}
interface Schema {
  readonly $ref?: string;
  readonly type?: string;
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly maxItems?: number;
  readonly examples?: readonly unknown[];
}
interface AsyncApiDocument {
  readonly asyncapi: string;
  readonly servers: Record<
    string,
    { readonly protocol: string; readonly pathname?: string; readonly description: string }
  >;
  readonly channels: Record<
    string,
    { readonly messages: Record<string, Ref>; readonly bindings?: { readonly ws?: { readonly headers?: Schema } } }
  >;
  readonly operations: Record<string, Operation>;
}

const doc = load(readFileSync(DOCUMENT_PATH, 'utf8')) as AsyncApiDocument;

/** Follows `$ref`s until a node that is not a reference. */
function deref<T>(node: unknown): T {
  let current = node;
  while (typeof current === 'object' && current !== null && typeof (current as Ref).$ref === 'string') {
    current = resolvePointer(doc, (current as Ref).$ref);
  }
  return current as T;
}

const checker = (): SchemaChecker => new SchemaChecker((ref) => resolvePointer(doc, ref));

/** The messages of `channel` that operations with `action` carry, by message key. */
function messagesOf(channel: string, action: 'send' | 'receive'): Map<string, Message> {
  const found = new Map<string, Message>();
  for (const operation of Object.values(doc.operations)) {
    if (operation.action !== action || operation.channel.$ref !== `#/channels/${channel}`) continue;
    for (const ref of operation.messages ?? []) found.set(ref.$ref.split('/').pop()!, deref<Message>(ref));
  }
  return found;
}

const frameSchemaOf = (message: Message): Schema => deref<Schema>(message.payload);
const eventOf = (message: Message): string => deref<Schema>(frameSchemaOf(message).properties?.event).const as string;
const dataSchemaOf = (message: Message): Schema => deref<Schema>(frameSchemaOf(message).properties?.data);

/** JSON events by direction, keyed by the `event` field each message's payload fixes. */
function eventsOf(action: 'send' | 'receive'): Map<string, Message> {
  return new Map([...messagesOf('json', action).values()].map((message) => [eventOf(message), message]));
}
const outbound = eventsOf('send');
const inbound = eventsOf('receive');

const sorted = <T>(values: Iterable<T>): T[] => [...values].sort();

// ---- Samples of everything the gateway writes on a JSON connection ----------------------------

/** Exhaustive at compile time: a new status or failure fails the typecheck until it is sampled. */
const DELIVERY_STATUSES = Object.keys({ delivered: true, queued: true } satisfies Record<
  DeliveryStatus,
  true
>) as DeliveryStatus[];
const SEND_FAILURES = Object.keys({ INBOX_FULL: true, STORE_UNAVAILABLE: true } satisfies Record<
  SendFailure,
  true
>) as SendFailure[];

const fromJsonSender: ImMessage = {
  id: messageIdFor('alice', 'c-1'),
  seq: 7,
  from: 'alice',
  to: 'bob',
  body: 'hello',
  ts: Date.now(),
  clientId: 'c-1',
};
const plainIds = new PlainMessageIds();
plainIds.startAbove(123_456_789);
const fromTextSender: ImMessage = {
  id: plainIds.next(),
  seq: 123_456_789,
  from: 'bøb 😀',
  to: 'alice@example.com',
  body: 'a|b',
  ts: 0,
};
const clientId = 'x'.repeat(jsonCodec.MAX_CLIENT_ID_CHARS);

type EncoderName = Extract<keyof typeof jsonCodec, `encode${string}`>;

/** One entry per `encode*` export of the JSON codec; a new encoder fails the suite until it has one. */
const ENCODER_SAMPLES: Record<EncoderName, () => string[]> = {
  encodeMessage: () => [fromJsonSender, fromTextSender].map(jsonCodec.encodeMessage),
  encodeSent: () => DELIVERY_STATUSES.map((status) => jsonCodec.encodeSent(clientId, fromJsonSender.id, status)),
  encodeReceipt: () => [jsonCodec.encodeReceipt(fromJsonSender.id)],
  encodePong: () => [jsonCodec.encodePong(Date.now())],
  encodeError: () =>
    Object.values(ErrorCode).flatMap((code) => [
      jsonCodec.encodeError(new ProtocolError(code, 'why')),
      jsonCodec.encodeError(new ProtocolError(code, 'why', clientId)),
    ]),
};

/** One entry per method of the JSON connection's `OutboundCodec`. */
const OUTBOUND_SAMPLES: { [K in keyof OutboundCodec]: () => Array<string | undefined> } = {
  message: () => [jsonCodec.jsonOutbound.message(fromJsonSender)],
  sent: () => DELIVERY_STATUSES.map((status) => jsonCodec.jsonOutbound.sent('c-1', fromJsonSender.id, status)),
  receipt: () => [jsonCodec.jsonOutbound.receipt(fromJsonSender.id)],
  failed: () => SEND_FAILURES.map((failure) => jsonCodec.jsonOutbound.failed('c-1', failure, 'not stored')),
};

function encodedFrames(): string[] {
  return [...Object.values(ENCODER_SAMPLES), ...Object.values(OUTBOUND_SAMPLES)].flatMap((sample) =>
    sample().map((frame) => {
      expect(frame, 'a JSON connection answers every outbound call').toBeTypeOf('string');
      return frame!;
    }),
  );
}

// ---- What the decoder accepts ----------------------------------------------------------------

/**
 * Whether `decodeJsonFrame` knows `event`: anything but UNKNOWN_EVENT (a result, or a complaint
 * about the empty `data`) means it dispatched on the name. Asking the decoder, rather than
 * reading its `switch`, survives any refactoring of how events are dispatched.
 */
function decoderKnows(event: string): boolean {
  try {
    jsonCodec.decodeJsonFrame(JSON.stringify({ event, data: {} }));
    return true;
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return error.code !== ErrorCode.UNKNOWN_EVENT;
  }
}

/**
 * Event names to ask the decoder about: every identifier-like string literal in src/ (an event
 * the decoder accepts has to be spelled somewhere), plus every event the document names.
 */
function candidateEvents(): Set<string> {
  const names = new Set<string>([...inbound.keys(), ...outbound.keys()]);
  const literal = /(['"`])([A-Za-z_$][\w$.:-]{0,63})\1/g;
  for (const file of readdirSync(SOURCE_DIR, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.spec.ts')) continue;
    for (const match of readFileSync(join(SOURCE_DIR, file), 'utf8').matchAll(literal)) names.add(match[2]!);
  }
  return names;
}

function decodes(frame: unknown): boolean {
  try {
    jsonCodec.decodeJsonFrame(JSON.stringify(frame));
    return true;
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return false;
  }
}

interface BoundaryCase {
  readonly label: string;
  readonly data: Record<string, unknown>;
  readonly accepted: boolean;
}

/**
 * Frames just inside and just outside every length and count limit the document states for an
 * inbound event's fields. User ids are checked by the gateway, not the decoder: see the UserId test.
 */
function boundaryCases(schema: Schema, example: Record<string, unknown>): BoundaryCase[] {
  const cases: BoundaryCase[] = [];
  const add = (name: string, label: string, value: unknown, accepted: boolean): void => {
    cases.push({ label: `${name} ${label}`, data: { ...example, [name]: value }, accepted });
  };
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    if (raw.$ref === USER_ID_REF) continue;
    const field = deref<Schema>(raw);
    if (field.maxLength !== undefined) {
      add(name, `of ${field.maxLength} chars`, 'x'.repeat(field.maxLength), true);
      add(name, `of ${field.maxLength + 1} chars`, 'x'.repeat(field.maxLength + 1), false);
    }
    if (field.minLength !== undefined && field.minLength > 0) {
      add(name, `of ${field.minLength} chars`, 'x'.repeat(field.minLength), true);
      add(name, `of ${field.minLength - 1} chars`, 'x'.repeat(field.minLength - 1), false);
    }
    if (field.type !== 'array') continue;
    const item = deref<Schema>(field.items);
    const sample = (example[name] as unknown[] | undefined)?.[0] ?? 'x';
    if (field.maxItems !== undefined) {
      add(name, `with ${field.maxItems} items`, Array(field.maxItems).fill(sample), true);
      add(name, `with ${field.maxItems + 1} items`, Array(field.maxItems + 1).fill(sample), false);
    }
    if (item.maxLength !== undefined) {
      add(name, `with an item of ${item.maxLength} chars`, ['x'.repeat(item.maxLength)], true);
      add(name, `with an item of ${item.maxLength + 1} chars`, ['x'.repeat(item.maxLength + 1)], false);
    }
  }
  return cases;
}

// ---- The suite ---------------------------------------------------------------------------------

describe('docs/asyncapi.yaml', () => {
  describe('structure', () => {
    it('is an AsyncAPI 3.0.0 document with one ws server', () => {
      expect(doc.asyncapi).toBe('3.0.0');
      const servers = Object.values(doc.servers);
      expect(servers).toHaveLength(1);
      expect(servers[0]).toMatchObject({ protocol: 'ws', pathname: '/ws' });
    });

    it('has operations that reference their own channel and its messages', () => {
      for (const [name, operation] of Object.entries(doc.operations)) {
        expect(['send', 'receive'], name).toContain(operation.action);
        expect(operation.messages?.length, `${name}: messages`).toBeGreaterThan(0);
        expect(deref(operation.channel), `${name}: channel`).toBeTypeOf('object');
        for (const ref of [...(operation.messages ?? []), ...(operation.reply?.messages ?? [])]) {
          const channel = operation.reply?.messages?.includes(ref)
            ? (operation.reply.channel ?? operation.channel)
            : operation.channel;
          expect(ref.$ref.startsWith(`${channel.$ref}/messages/`), `${name}: ${ref.$ref}`).toBe(true);
          expect(deref<Message>(ref).payload, `${name}: ${ref.$ref}`).toBeDefined();
        }
      }
    });

    it('carries every channel message in exactly one direction', () => {
      for (const [channel, { messages }] of Object.entries(doc.channels)) {
        for (const key of Object.keys(messages)) {
          const directions = (['send', 'receive'] as const).filter((action) => messagesOf(channel, action).has(key));
          expect(directions, `${channel}.${key}`).toHaveLength(1);
        }
      }
    });

    it('makes every reply a message the gateway sends', () => {
      const sends = new Set([...outbound.values()]);
      for (const operation of Object.values(doc.operations)) {
        for (const ref of operation.reply?.messages ?? []) expect(sends.has(deref<Message>(ref)), ref.$ref).toBe(true);
      }
    });

    it('has examples that match their own schemas', () => {
      const check = checker();
      for (const message of [...inbound.values(), ...outbound.values()]) {
        expect(message.examples?.length, eventOf(message)).toBeGreaterThan(0);
        for (const example of message.examples ?? []) {
          expect(
            check.problems(message.payload, example.payload),
            `${eventOf(message)} example ${example.name}`,
          ).toEqual([]);
        }
      }
    });
  });

  describe('JSON protocol, gateway to client', () => {
    it('samples every encoder the codec exports, and every method of its OutboundCodec', () => {
      const exported = Object.entries(jsonCodec).filter(
        ([name, value]) => name.startsWith('encode') && typeof value === 'function',
      );
      expect(sorted(exported.map(([name]) => name))).toEqual(sorted(Object.keys(ENCODER_SAMPLES)));
      expect(sorted(Object.keys(jsonCodec.jsonOutbound))).toEqual(sorted(Object.keys(OUTBOUND_SAMPLES)));
    });

    it('documents every event the codec writes, and each frame validates against its schema', () => {
      const check = checker();
      for (const text of encodedFrames()) {
        const frame = JSON.parse(text) as { event: string; data: unknown };
        const message = outbound.get(frame.event);
        expect(message, `the gateway sends "${frame.event}", which no send operation documents`).toBeDefined();
        expect(check.problems(message!.payload, frame), text).toEqual([]);
      }
    });

    it('documents no event the codec never writes, and no enum value it never sends', () => {
      const check = checker();
      const written = new Set<string>();
      for (const text of encodedFrames()) {
        const frame = JSON.parse(text) as { event: string };
        written.add(frame.event);
        const message = outbound.get(frame.event);
        if (message !== undefined) check.problems(message.payload, frame);
      }
      expect(sorted(outbound.keys())).toEqual(sorted(written));
      for (const [values, seen] of check.enumsSeen)
        expect(sorted(seen), `enum ${JSON.stringify(values)}`).toEqual(sorted(values));
    });

    it('lists exactly the ErrorCode values as error codes', () => {
      const code = deref<Schema>(dataSchemaOf(outbound.get('error')!).properties?.code);
      expect(sorted(code.enum ?? [])).toEqual(sorted(Object.values(ErrorCode)));
    });
  });

  describe('JSON protocol, client to gateway', () => {
    it('documents exactly the events the decoder accepts', () => {
      const accepted = [...candidateEvents()].filter(decoderKnows);
      expect(sorted(accepted)).toEqual(sorted(inbound.keys()));
    });

    it('names every documented event in the UNKNOWN_EVENT answer', () => {
      let message = '';
      try {
        jsonCodec.decodeJsonFrame('{"event":"no-such-event","data":{}}');
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).code).toBe(ErrorCode.UNKNOWN_EVENT);
        message = (error as ProtocolError).message;
      }
      for (const event of inbound.keys()) expect(message).toMatch(new RegExp(`\\b${event}\\b`));
    });

    it('decodes every example, with the documented field names', () => {
      for (const [event, message] of inbound) {
        for (const example of message.examples ?? []) {
          const frame = example.payload as { event: string; data?: Record<string, unknown> };
          const decoded = jsonCodec.decodeJsonFrame(JSON.stringify(frame)) as unknown as Record<string, unknown>;
          expect(decoded.event).toBe(event);
          for (const name of Object.keys(dataSchemaOf(message).properties ?? {})) {
            if (frame.data && name in frame.data)
              expect(isDeepStrictEqual(decoded[name], frame.data[name]), `${event}.${name}`).toBe(true);
          }
        }
      }
    });

    it('accepts a frame with only the required fields, and refuses one without any of them', () => {
      for (const [event, message] of inbound) {
        const frameSchema = frameSchemaOf(message);
        const schema = dataSchemaOf(message);
        const example = (message.examples![0]!.payload as { data?: Record<string, unknown> }).data ?? {};
        const required = schema.required ?? [];
        const minimal = Object.fromEntries(required.map((name) => [name, example[name]]));
        expect(decodes({ event, data: minimal }), `${event} with only ${required.join(', ')}`).toBe(true);
        if (!frameSchema.required?.includes('data')) expect(decodes({ event }), `${event} without data`).toBe(true);
        for (const name of required) {
          const { [name]: _omitted, ...rest } = minimal;
          expect(decodes({ event, data: rest }), `${event} without ${name}`).toBe(false);
        }
        for (const name of Object.keys(schema.properties ?? {})) {
          expect(decodes({ event, data: { ...minimal, [name]: null } }), `${event} with ${name}: null`).toBe(false);
        }
      }
    });

    it('states the limits the decoder enforces, to the character and the item', () => {
      const cases = [...inbound].flatMap(([event, message]) => {
        const example = (message.examples![0]!.payload as { data?: Record<string, unknown> }).data ?? {};
        return boundaryCases(dataSchemaOf(message), example).map((c) => ({ ...c, event }));
      });
      expect(cases.length).toBeGreaterThan(0);
      for (const { event, label, data, accepted } of cases) {
        expect(decodes({ event, data }), `${event}: ${label}`).toBe(accepted);
      }
    });
  });

  it('has a UserId schema that accepts exactly the ids the gateway accepts', () => {
    const check = checker();
    const userId = { $ref: USER_ID_REF };
    const valid = (id: string): boolean => check.problems(userId, id).length === 0;
    const edges = [
      'a',
      'a'.repeat(128),
      'a'.repeat(129),
      '😀'.repeat(128),
      '😀'.repeat(129),
      '',
      ' a',
      'a ',
      'a b',
      'a|b',
      '|',
      'a\u0085b',
      'a\u00a0',
      '\u2028a',
      'é',
      'alice@example.com',
      'a\u2029b',
      'a\u202eb',
      'a\u2066b',
      'a\u200bb',
      '\ufeffa',
      'a\u{e0041}',
      'k\ud800',
      '\udbff',
      'a\udc00b',
      '😀\ud800',
    ];
    for (const id of edges) expect(valid(id), JSON.stringify(id)).toBe(isValidUserId(id));
    const char = fc.oneof(
      fc.constantFrom(
        'a',
        '|',
        ' ',
        '\t',
        '\u0000',
        '\u001f',
        '\u007f',
        '\u0085',
        '\u009f',
        '\u00a0',
        '\u2028',
        '\ufeff',
        '\u202e',
        '\u061c',
        '\u200b',
        '\ud800',
        '\udc00',
        'é',
        '😀',
      ),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: char, maxLength: 130 }), fc.string({ unit: 'binary', maxLength: 140 })),
        (id) => {
          expect(valid(id), JSON.stringify(id)).toBe(isValidUserId(id));
        },
      ),
      { numRuns: 3_000 },
    );
  });

  describe('plain-text protocol', () => {
    it('sends frames that decode to a valid recipient and the content after the first |', () => {
      const [send] = [...messagesOf('plainText', 'receive').values()];
      for (const { payload } of send!.examples ?? []) {
        const { to, body } = decodePlainText(payload as string);
        expect(isValidUserId(to), String(payload)).toBe(true);
        expect(`${to}|${body}`).toBe(payload);
      }
    });

    it('delivers the bare content', () => {
      const [delivery] = [...messagesOf('plainText', 'send').values()];
      for (const { payload } of delivery!.examples ?? [])
        expect(encodePlainText({ body: payload as string })).toBe(payload);
    });
  });

  describe('on the wire', () => {
    let gw: TestGateway;
    const open: Array<{ close(): Promise<void> }> = [];
    const json = async (user: string): Promise<JsonClient> => {
      const client = await JsonClient.open(gw.wsUrl(user));
      open.push(client);
      return client;
    };
    const text = async (user: string): Promise<TestClient> => {
      const client = await TestClient.open(gw.wsUrl(user));
      open.push(client);
      return client;
    };

    beforeAll(async () => {
      gw = await startGateway();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((client) => client.close()));
    });
    afterAll(async () => {
      await gw.close();
    });

    it('answers the documented examples with documented frames only, every outbound event included', async () => {
      const [alice, bob] = [await json('alice'), await json('bob')];
      for (const message of inbound.values()) {
        for (const example of message.examples ?? []) alice.raw.send(JSON.stringify(example.payload));
      }
      alice.emit('no-such-event', {});
      const [delivered] = await bob.all('message', 1);
      bob.ack(delivered!.id as string);
      await alice.all('sent', 1);
      await alice.all('pong', 1);
      await alice.all('error', 2);

      // A message to an offline user: `sent queued`, then a `receipt` once it is delivered and acked.
      alice.send('c-offline', 'carol', 'later');
      await alice.all('sent', 2);
      const carol = await json('carol');
      const [queued] = await carol.all('message', 1);
      carol.ack(queued!.id as string);
      await alice.all('receipt', 1);

      const check = checker();
      const seen = new Set<string>();
      for (const frame of [alice, bob, carol].flatMap((client) => client.frames)) {
        seen.add(frame.event);
        const documented = outbound.get(frame.event);
        expect(documented, `the gateway sent "${frame.event}", which no send operation documents`).toBeDefined();
        expect(check.problems(documented!.payload, frame), JSON.stringify(frame)).toEqual([]);
      }
      expect(sorted(seen)).toEqual(sorted(outbound.keys()));
      expect(alice.of('sent').map((d) => d.status)).toEqual(['delivered', 'queued']);
      expect(sorted(alice.of('error').map((d) => d.code))).toEqual([ErrorCode.BAD_TOKEN, ErrorCode.UNKNOWN_EVENT]);
    });

    it('delivers a documented plain-text frame as the bare content', async () => {
      const [send] = [...messagesOf('plainText', 'receive').values()];
      const frame = send!.examples![0]!.payload as string;
      const { to, body } = decodePlainText(frame);
      const recipient = await text(to);
      const sender = await text('erin');
      sender.send(frame);
      expect(await recipient.next()).toBe(body);
    });
  });

  describe('connection', () => {
    it('documents exactly the close codes the gateway sends', () => {
      const description = Object.values(doc.servers)[0]!.description;
      const documented = [...description.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
      expect(sorted(documented)).toEqual(sorted(Object.values(CloseCode)));
    });

    it('offers the JSON protocol under its subprotocol name', () => {
      const header = doc.channels.json?.bindings?.ws?.headers?.properties?.['Sec-WebSocket-Protocol'];
      expect(header?.examples).toContain(JSON_SUBPROTOCOL);
    });
  });
});
