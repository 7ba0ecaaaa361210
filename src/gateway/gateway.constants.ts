/** The JSON protocol's WebSocket subprotocol name; a client without it speaks plain text. */
export const JSON_SUBPROTOCOL = 'im.v1.json';


/** How long connections get to answer our 1001 close frame at shutdown before they are cut. */
export const SHUTDOWN_CLOSE_GRACE_MS = 3_000;
