import { ClientEvent, ServerEvent } from './im-client.constants.js';
import type { ImMessage, SendStatus } from './im-client.events.js';

export interface SentData {
  readonly id: string;
  readonly messageId: string;
  readonly status: SendStatus;
}

export interface ReceiptData {
  readonly messageId: string;
  readonly status: 'delivered';
}

export interface ErrorData {
  readonly code: string;
  readonly message?: string;
  readonly id?: string;
}

/** A frame of an event this client does not know: a newer server may send it, so it is skipped. */
export interface IgnoredFrame {
  readonly event: 'ignored';
}

export type ServerFrame =
  | { readonly event: typeof ServerEvent.Message; readonly data: ImMessage }
  | { readonly event: typeof ServerEvent.Sent; readonly data: SentData }
  | { readonly event: typeof ServerEvent.Receipt; readonly data: ReceiptData }
  | { readonly event: typeof ServerEvent.Error; readonly data: ErrorData }
  | { readonly event: typeof ServerEvent.Pong }
  | IgnoredFrame;

const IGNORED: IgnoredFrame = { event: 'ignored' };
const PONG = { event: ServerEvent.Pong } as const;

/** Sent once per heartbeat tick; built once because it never changes. */
export const PING_FRAME = JSON.stringify({ event: ClientEvent.Ping, data: {} });

export function encodeSend(id: string, to: string, body: string): string {
  return JSON.stringify({ event: ClientEvent.Send, data: { id, to, body } });
}

export function encodeAck(ids: readonly string[]): string {
  return JSON.stringify({ event: ClientEvent.Ack, data: { ids } });
}

export function encodeRefresh(token: string): string {
  return JSON.stringify({ event: ClientEvent.Refresh, data: { token } });
}

/** Returns `undefined` for a frame that is not JSON or whose data does not match its event. */
export function decodeServerFrame(text: string): ServerFrame | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(frame) || typeof frame.event !== 'string') return undefined;
  const data = frame.data;
  switch (frame.event) {
    case ServerEvent.Message:
      return isMessage(data) ? { event: ServerEvent.Message, data } : undefined;
    case ServerEvent.Sent:
      return isSent(data) ? { event: ServerEvent.Sent, data } : undefined;
    case ServerEvent.Receipt:
      return isReceipt(data) ? { event: ServerEvent.Receipt, data } : undefined;
    case ServerEvent.Error:
      return isError(data) ? { event: ServerEvent.Error, data } : undefined;
    case ServerEvent.Pong:
      return PONG;
    default:
      return IGNORED;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isMessage(data: unknown): data is ImMessage {
  return (
    isRecord(data) &&
    isId(data.id) &&
    typeof data.from === 'string' &&
    typeof data.to === 'string' &&
    typeof data.body === 'string' &&
    typeof data.ts === 'number'
  );
}

function isSent(data: unknown): data is SentData {
  return (
    isRecord(data) && isId(data.id) && isId(data.messageId) && (data.status === 'delivered' || data.status === 'queued')
  );
}

function isReceipt(data: unknown): data is ReceiptData {
  return isRecord(data) && isId(data.messageId) && data.status === 'delivered';
}

function isError(data: unknown): data is ErrorData {
  return (
    isRecord(data) &&
    isId(data.code) &&
    (data.message === undefined || typeof data.message === 'string') &&
    (data.id === undefined || typeof data.id === 'string')
  );
}
