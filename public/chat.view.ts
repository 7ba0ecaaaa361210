import type { ChatMessage, MessageState } from './chat.store.js';

/** What the connection badge says: the SDK's state, and the browser's own idea of being offline. */
export type ConnectionView = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** The words under each message; a screen reader reads them as they are. */
const STATE_TEXT: Record<MessageState, string> = {
  sending: 'sending…',
  queued: '✓ queued',
  delivered: '✓✓ delivered',
  failed: 'not confirmed',
  received: '',
};

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Looks up an element the page cannot work without. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

export function renderConnection(view: ConnectionView): void {
  byId('connection').dataset.state = view;
  byId('connection-text').textContent = view;
}

function messageItem(message: ChatMessage, peer: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = message.mine ? 'message mine' : 'message';
  item.dataset.state = message.state;
  item.dataset.key = message.key;
  const body = document.createElement('p');
  body.textContent = message.body;
  const meta = document.createElement('span');
  meta.className = 'meta';
  const who = message.mine ? 'You' : peer;
  const status = document.createElement('span');
  status.className = 'status';
  status.textContent = STATE_TEXT[message.state];
  meta.append(`${who}, ${time.format(message.ts)}${message.mine ? ' · ' : ''}`, status);
  item.append(body, meta);
  return item;
}

/** The conversation with `peer`, scrolled to its newest message. */
export function renderMessages(peer: string | undefined, messages: readonly ChatMessage[]): void {
  byId('peer-title').textContent = peer === undefined ? 'Messages' : `Messages with ${peer}`;
  const list = byId<HTMLOListElement>('messages');
  list.replaceChildren(...(peer === undefined ? [] : messages.map((m) => messageItem(m, peer))));
  list.scrollTop = list.scrollHeight;
}

/** One button per peer; the open conversation is marked current, the others count unread messages. */
export function renderPeers(
  peers: readonly string[],
  current: string | undefined,
  unread: ReadonlyMap<string, number>,
  open: (peer: string) => void,
): void {
  const items = peers.map((peer) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.peer = peer;
    button.textContent = peer;
    button.setAttribute('aria-current', String(peer === current));
    const count = unread.get(peer) ?? 0;
    if (count > 0) {
      const badge = document.createElement('span');
      badge.className = 'unread';
      const words = document.createElement('span');
      words.className = 'visually-hidden';
      words.textContent = ' unread';
      badge.append(String(count), words);
      // The space keeps the name and the count apart when read out: "bob 1 unread".
      button.append(' ', badge);
    }
    button.addEventListener('click', () => open(peer));
    const item = document.createElement('li');
    item.append(button);
    return item;
  });
  byId('peers').replaceChildren(...items);
  byId('no-peers').hidden = peers.length > 0;
}
