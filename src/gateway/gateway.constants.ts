/** The JSON protocol's WebSocket subprotocol name; a client without it speaks plain text. */
export const JSON_SUBPROTOCOL = 'im.v1.json';

/**
 * `ws` itself cuts frames above this multiple of MAX_PAYLOAD_BYTES. Between the two, a JSON
 * client gets a TOO_LARGE answer naming its message (so its SDK stops resending it) instead of
 * a dropped connection; plain-text clients are closed with 1009 at MAX_PAYLOAD_BYTES.
 */
export const FRAME_CEILING_FACTOR = 4;
