import { ImClient, type ImClientState, type ImMessage } from '../client/index.js';
import { ChatStore } from './chat.store.js';
import { byId, type ConnectionView, renderConnection, renderMessages, renderPeers } from './chat.view.js';

/** The gateway fills these in when it serves the page. */
const WS_PATH = document.body.dataset.wsPath ?? '/ws';
const AUTH_MODE = document.body.dataset.authMode === 'jwt' ? 'jwt' : 'query';
/** The last id used in this browser, so that a reopened tab signs in again by itself (query mode). */
const LAST_USER_KEY = 'im-chat:last-user';

/** Why the gateway let a connection go for good, in words; other codes are shown as numbers. */
const FINAL_CLOSE_TEXT: Readonly<Record<number, string>> = {
  4001: 'Signed in from another tab or device',
  4003: 'Disconnected by an administrator',
  4401: 'The token expired',
};

const SDK_STATE_VIEW: Record<ImClientState, ConnectionView> = {
  connecting: 'connecting',
  open: 'connected',
  reconnecting: 'reconnecting',
  closed: 'offline',
};

interface Session {
  readonly me: string;
  readonly client: ImClient;
  readonly store: ChatStore;
  current: string | undefined;
  readonly unread: Map<string, number>;
}

let session: Session | undefined;

const signIn = byId<HTMLFormElement>('sign-in');
const compose = byId<HTMLFormElement>('compose');
const meInput = byId<HTMLInputElement>('me');
const tokenInput = byId<HTMLTextAreaElement>('token');
const toInput = byId<HTMLInputElement>('to');
const bodyInput = byId<HTMLInputElement>('body');

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/** A client message id: `randomUUID` needs a secure context, so plain http falls back to random bytes. */
function newMessageId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The `sub` of a JWT, read without verifying it (the gateway does that): it names the signed-in user. */
function tokenSubject(token: string): string | undefined {
  try {
    const payload = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const sub: unknown = JSON.parse(atob(payload)).sub;
    return typeof sub === 'string' && sub !== '' ? sub : undefined;
  } catch {
    return undefined;
  }
}

function gatewayUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}`;
}

function render(): void {
  if (session === undefined) {
    renderPeers([], undefined, new Map(), openConversation);
    renderMessages(undefined, []);
    return;
  }
  const { store, current, unread } = session;
  renderPeers(store.peers(), current, unread, openConversation);
  renderMessages(current, current === undefined ? [] : store.messages(current));
}

function openConversation(peer: string): void {
  if (session === undefined) return;
  session.current = peer;
  session.unread.delete(peer);
  toInput.value = peer;
  render();
}

function showConnection(state: ImClientState): void {
  renderConnection(navigator.onLine || state === 'open' ? SDK_STATE_VIEW[state] : 'offline');
}

function onMessage(message: ImMessage): void {
  const current = session!;
  if (!current.store.addReceived(message)) return;
  if (current.current === undefined) {
    // The first message opens its conversation, ready for an answer.
    current.current = message.from;
    if (toInput.value === '') toInput.value = message.from;
  }
  if (message.from !== current.current) current.unread.set(message.from, (current.unread.get(message.from) ?? 0) + 1);
  render();
}

function start(me: string, credentials: { user: string } | { token: string }): void {
  const client = new ImClient({ url: gatewayUrl(), ...credentials });
  const store = new ChatStore(me, storage());
  session = { me, client, store, current: store.peers()[0], unread: new Map() };
  client.on('state', showConnection);
  client.on('message', onMessage);
  client.on('receipt', ({ id }) => {
    if (id === undefined) return;
    store.setState(id, 'delivered');
    render();
  });
  client.on('open', () => performance.mark('im-connected'));
  client.on('close', ({ code, willReconnect }) => {
    // The client has stopped (it does not come back after these): sign in again.
    if (willReconnect || session?.client !== client) return;
    stop();
    byId('sign-in-error').textContent = `${FINAL_CLOSE_TEXT[code] ?? `Disconnected (${code})`}: sign in again.`;
  });
  byId('me-shown').textContent = me;
  byId('signed-in').hidden = false;
  byId('connect').hidden = true;
  byId('user-field').hidden = true;
  byId('token-field').hidden = true;
  byId('sign-in-error').textContent = '';
  render();
  performance.mark('im-connect');
  client.connect();
  toInput.focus();
}

function stop(): void {
  const ending = session;
  // Cleared first: closing the client reports a close, which must not find this session.
  session = undefined;
  ending?.client.close();
  storage()?.removeItem(LAST_USER_KEY);
  byId('signed-in').hidden = true;
  byId('connect').hidden = false;
  byId(AUTH_MODE === 'jwt' ? 'token-field' : 'user-field').hidden = false;
  renderConnection('offline');
  render();
  (AUTH_MODE === 'jwt' ? tokenInput : meInput).focus();
}

signIn.addEventListener('submit', (event) => {
  event.preventDefault();
  if (session !== undefined) return;
  if (AUTH_MODE === 'jwt') {
    const token = tokenInput.value.trim();
    const me = tokenSubject(token);
    if (me === undefined) {
      byId('sign-in-error').textContent = 'This is not a JWT with a "sub" claim.';
      return;
    }
    start(me, { token });
    return;
  }
  const me = meInput.value.trim();
  if (me === '') return;
  storage()?.setItem(LAST_USER_KEY, me);
  start(me, { user: me });
});

byId('sign-out').addEventListener('click', stop);

compose.addEventListener('submit', (event) => {
  event.preventDefault();
  const to = toInput.value.trim();
  const body = bodyInput.value;
  const errors = byId('compose-error');
  if (session === undefined) {
    errors.textContent = 'Connect first.';
    return;
  }
  if (to === '' || body === '') return;
  errors.textContent = '';
  const { client, store } = session;
  const id = newMessageId();
  store.addSent(to, id, body);
  session.current = to;
  session.unread.delete(to);
  bodyInput.value = '';
  render();
  client.send(to, body, { id }).then(
    (status) => {
      store.setState(id, status);
      render();
    },
    (error: { code?: string; message?: string }) => {
      store.setState(id, 'failed');
      errors.textContent = `Not sent: ${error.message ?? error.code ?? 'unknown error'}`;
      render();
    },
  );
  bodyInput.focus();
});

// The browser knows before the socket does: say so at once, and reconnect without waiting out a backoff.
window.addEventListener('offline', () => renderConnection('offline'));
window.addEventListener('online', () => {
  if (session === undefined) return;
  showConnection(session.client.state);
  session.client.connect();
});

if (AUTH_MODE === 'jwt') {
  byId('user-field').hidden = true;
  byId('token-field').hidden = false;
  meInput.required = false;
}

const lastUser = AUTH_MODE === 'query' ? storage()?.getItem(LAST_USER_KEY) : null;
if (lastUser) {
  meInput.value = lastUser;
  start(lastUser, { user: lastUser });
} else {
  render();
}
