import { OfflineMessageStore } from '../../src/offline/offline-message.store.js';
import type { TestGateway } from './gateway.js';

/** Unexpired messages committed to `user`'s inbox: what a connection of theirs would drain now. */
export function inboxSize(gw: TestGateway, user: string): Promise<number> {
  return gw.app.get(OfflineMessageStore).count(user, Date.now());
}
