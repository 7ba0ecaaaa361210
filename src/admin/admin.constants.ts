/** Sender of admin messages that name none: an announcement from the operator, not from a user. */
export const SYSTEM_SENDER = 'system';

/**
 * How long `POST /admin/messages` waits for `queued` or `delivered`. An inbox commit takes
 * milliseconds; a live app that has not acked within 5 s is busy or backgrounded, and the caller
 * is better served by a 202 than by a request held open.
 */
export const SEND_WAIT_MS = 5_000;

/** Name of the bearer security scheme in the OpenAPI document. */
export const ADMIN_SECURITY_SCHEME = 'bearer';

/** Every admin route sits under this path: the admin route hook protects whatever is mounted here. */
export const ADMIN_PATH_PREFIX = '/admin';
