import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { PAGE_WAIT_MS } from './browser.js';

/** One message as the page shows it. */
export interface ShownMessage {
  readonly body: string;
  readonly mine: boolean;
  readonly state: string;
}

/** The chat page at `/`, driven as a user would: by its labels and buttons. */
export class ChatPage {
  constructor(private readonly page: () => Page) {}

  async signIn(user: string): Promise<void> {
    await this.page().getByLabel('Your id', { exact: true }).fill(user);
    await this.page().getByRole('button', { name: 'Connect' }).click();
    await this.waitForConnection('connected');
  }

  /** Milliseconds from the Connect click to the socket's open, from the page's performance marks. */
  firstConnectMs(): Promise<number> {
    return this.page().evaluate(() => performance.measure('im-first-connect', 'im-connect', 'im-connected').duration);
  }

  async send(to: string, body: string): Promise<void> {
    const page = this.page();
    await page.getByLabel('To', { exact: true }).fill(to);
    await page.getByLabel('Message', { exact: true }).fill(body);
    await page.getByRole('button', { name: 'Send' }).click();
  }

  /** The recipient field, which opening a conversation fills in. */
  recipient(): Promise<string> {
    return this.page().getByLabel('To', { exact: true }).inputValue();
  }

  async openConversation(peer: string): Promise<void> {
    await this.page().locator(`#peers button[data-peer="${peer}"]`).click();
  }

  /** The messages of the open conversation, oldest first. */
  messages(): Promise<ShownMessage[]> {
    return this.page()
      .locator('#messages li')
      .evaluateAll((items) =>
        items.map((li) => ({
          body: li.querySelector('p')!.textContent ?? '',
          mine: li.classList.contains('mine'),
          state: (li as HTMLElement).dataset.state ?? '',
        })),
      );
  }

  /** Waits until the open conversation shows exactly `expected`. */
  async waitForMessages(expected: ShownMessage[], timeoutMs = PAGE_WAIT_MS): Promise<void> {
    await expect.poll(() => this.messages(), { timeout: timeoutMs, interval: 50 }).toEqual(expected);
  }

  async waitForConnection(state: string, timeoutMs = PAGE_WAIT_MS): Promise<void> {
    await this.page().locator(`#connection[data-state="${state}"]`).waitFor({ timeout: timeoutMs });
  }
}
