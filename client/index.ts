export { ImClient, type SendOptions } from './im.client.js';
export { ImClientError, type ImClientErrorDetails } from './im-client.error.js';
export { LocalErrorCode, ServerErrorCode, type ImErrorCode } from './im-error-code.enum.js';
export type {
  ImClientEvent,
  ImClientEventMap,
  ImClientListener,
  ImClientState,
  ImCloseInfo,
  ImMessage,
  ImReceipt,
  SendStatus,
} from './im-client.events.js';
export type { ImClientOptions, ReconnectOptions } from './im-client.options.js';
export type { WebSocketConstructor, WebSocketLike } from './web-socket.types.js';
export { CloseCode, SUBPROTOCOL } from './im-client.constants.js';
