import { READY_STATE_OPEN, SUBPROTOCOL } from './im-client.constants.js';
import type { WebSocketConstructor, WebSocketLike } from './web-socket.types.js';

export interface SocketConnectionEvents {
  open(protocol: string): void;
  frame(data: unknown): void;
  close(code: number, reason: string): void;
  error(message: string): void;
}

/** `ws` throws an error event with no listener out of the process, and it may still emit one after a close. */
function ignoreError(): void {}

/**
 * One WebSocket and the handlers the client put on it. Once disposed or closed it has no handler
 * left, so a socket the client gave up on can never call back into it.
 */
export class SocketConnection {
  private readonly socket: WebSocketLike;

  constructor(WebSocket: WebSocketConstructor, url: string, events: SocketConnectionEvents) {
    const socket = new WebSocket(url, [SUBPROTOCOL]);
    this.socket = socket;
    socket.onopen = () => events.open(socket.protocol);
    socket.onmessage = (event) => events.frame(event.data);
    socket.onclose = (event) => {
      this.detach();
      events.close(event.code, event.reason);
    };
    socket.onerror = (event) => events.error(errorMessage(event));
  }

  /** Returns false when the socket cannot take the frame now; callers that must not lose it keep it. */
  send(frame: string): boolean {
    if (this.socket.readyState !== READY_STATE_OPEN) return false;
    this.socket.send(frame);
    return true;
  }

  /**
   * Closes without waiting for the closing handshake: on a dead link it would never complete, and
   * a browser may take minutes to give up on it.
   */
  dispose(code: number, reason: string): void {
    this.detach();
    this.socket.close(code, reason);
  }

  private detach(): void {
    this.socket.onopen = null;
    this.socket.onmessage = null;
    this.socket.onclose = null;
    this.socket.onerror = ignoreError;
  }
}

/** `ws` puts the cause on the error event; a browser tells nothing. */
function errorMessage(event: unknown): string {
  if (typeof event === 'object' && event !== null && 'message' in event && typeof event.message === 'string') {
    return event.message;
  }
  return 'WebSocket error';
}
