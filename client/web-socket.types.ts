/**
 * Handler properties are declared through a method so that both the DOM `WebSocket` and the `ws`
 * class, whose handlers take richer event types, are assignable (method parameters are bivariant).
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface WebSocketMessageEventLike {
  readonly data: unknown;
}

export interface WebSocketCloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/** The part of the standard WebSocket API the client uses, and nothing more. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  onopen: Handler<unknown> | null;
  onmessage: Handler<WebSocketMessageEventLike> | null;
  onclose: Handler<WebSocketCloseEventLike> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The browser's global `WebSocket`, or a compatible class such as the default export of `ws`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;
