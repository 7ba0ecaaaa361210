import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SignJWT } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appServer, BrowserTab, launchChromium, PAGE_WAIT_MS } from './support/browser.js';
import { ChatPage } from './support/chat-page.js';
import { ChildGateway, freePort } from './support/child-gateway.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';

/** axe-core, run in the page through the debugging protocol (the page's CSP admits no injected script). */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.1 A and AA rules that fail, as `rule: element` lines. */
const ACCESSIBILITY_AUDIT = `(async () => {
  const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  return result.violations.flatMap((v) => v.nodes.map((n) => v.id + ': ' + n.target.join(' ')));
})()`;

/** A browser test opens pages, reconnects and restarts a gateway: well past the default 20 s on a busy machine. */
const BROWSER_TEST_MS = 90_000;

/** Chromium's own report of a refused WebSocket connection: expected while a gateway is down, and only then. */
const REFUSED_SOCKET = /^WebSocket connection to '.*' failed/;

/**
 * What a page's own module would do with the bundle, run in the page as source text (the test
 * runner would rewrite an `import()` written in the test): import it from the gateway, connect two
 * users, send one message.
 */
const EXCHANGE_THROUGH_THE_BUNDLE = `(async () => {
  const { ImClient } = await import('/sdk/im-client.js');
  const url = 'ws://' + location.host + '/ws';
  const bob = new ImClient({ url, user: 'sdk-bob' });
  const alice = new ImClient({ url, user: 'sdk-alice' });
  const received = new Promise((resolve) => bob.on('message', (m) => resolve(m.from + ': ' + m.body)));
  await Promise.all([bob.connect(), alice.connect()]);
  const status = await alice.send('sdk-bob', 'from the bundle');
  const message = await received;
  alice.close();
  bob.close();
  return { status, message };
})()`;

describe('chat page in Chromium', { timeout: BROWSER_TEST_MS }, () => {
  let browser: Browser;
  const tabs: BrowserTab[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const open = async (url: string) => {
    const tab = await BrowserTab.open(browser, url);
    tabs.push(tab);
    return { tab, chat: new ChatPage(() => tab.page) };
  };

  /** No console error, no uncaught exception, no CSP violation, on any page the test opened. */
  const expectNoProblems = async (allowedConsole?: RegExp) => {
    for (const tab of tabs) {
      expect(tab.problems.console.filter((text) => !allowedConsole?.test(text))).toEqual([]);
      if (!tab.page.isClosed()) expect(await tab.cspViolations()).toEqual([]);
    }
  };

  const closeTabs = async () => {
    for (const tab of tabs.splice(0)) await tab.close();
  };

  describe('against an in-process gateway', () => {
    let gw: TestGateway;
    let dir: { remove(): void; path: string };
    afterEach(async () => {
      await closeTabs();
      await gw.close();
      dir.remove();
    });
    const start = async () => {
      dir = tempDir();
      gw = await startGateway({ OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/offline.db` });
    };

    it('lets two pages chat both ways', async () => {
      await start();
      const alice = await open(`${gw.httpUrl}/`);
      const bob = await open(`${gw.httpUrl}/`);
      await alice.chat.signIn('alice');
      await bob.chat.signIn('bob');
      const firstConnect = [await alice.chat.firstConnectMs(), await bob.chat.firstConnectMs()];
      console.log(`[chat page] first connect ${firstConnect.map((ms) => ms.toFixed(1)).join(' ms, ')} ms`);
      // A loopback handshake: anything near a second means the page waits on something it should not.
      for (const ms of firstConnect) expect(ms).toBeLessThan(1_000);

      await alice.chat.send('bob', 'hi bob');
      await bob.chat.waitForMessages([{ body: 'hi bob', mine: false, state: 'received' }]);
      await alice.chat.waitForMessages([{ body: 'hi bob', mine: true, state: 'delivered' }]);

      // Bob answers from the conversation the message opened.
      expect(await bob.chat.recipient()).toBe('alice');
      await bob.chat.send('alice', 'hello alice');
      await alice.chat.waitForMessages([
        { body: 'hi bob', mine: true, state: 'delivered' },
        { body: 'hello alice', mine: false, state: 'received' },
      ]);
      await bob.chat.waitForMessages([
        { body: 'hi bob', mine: false, state: 'received' },
        { body: 'hello alice', mine: true, state: 'delivered' },
      ]);
      await alice.tab.screenshot('chat-both-ways-alice');
      await bob.tab.screenshot('chat-both-ways-bob');
      await expectNoProblems();
    });

    it('shows messages sent to a closed tab as queued, then delivers them in order when it reopens', async () => {
      await start();
      const alice = await open(`${gw.httpUrl}/`);
      const bob = await open(`${gw.httpUrl}/`);
      await alice.chat.signIn('alice');
      await bob.chat.signIn('bob');
      await bob.tab.page.close();

      for (const body of ['one', 'two', 'three']) await alice.chat.send('bob', body);
      const mine = (state: string) => ['one', 'two', 'three'].map((body) => ({ body, mine: true, state }));
      await alice.chat.waitForMessages(mine('queued'));
      await alice.tab.screenshot('offline-queued-alice');

      // The reopened tab signs in again as bob by itself.
      await bob.tab.reopen(`${gw.httpUrl}/`);
      await bob.chat.waitForConnection('connected');
      await bob.chat.waitForMessages(['one', 'two', 'three'].map((body) => ({ body, mine: false, state: 'received' })));
      await alice.chat.waitForMessages(mine('delivered'));
      await alice.tab.screenshot('offline-delivered-alice');
      await bob.tab.screenshot('offline-reopened-bob');
      await expectNoProblems();
    });

    it('passes an accessibility audit signed out and in a conversation, in a focus order that follows the page', async () => {
      await start();
      const alice = await open(`${gw.httpUrl}/`);
      const bob = await open(`${gw.httpUrl}/`);
      await alice.tab.page.evaluate(AXE);
      expect(await alice.tab.page.evaluate(ACCESSIBILITY_AUDIT)).toEqual([]);

      // Keyboard only: the id, then Connect; once connected, focus waits in the recipient field.
      const focused = () => alice.tab.page.evaluate(() => document.activeElement?.id ?? '');
      await alice.tab.page.keyboard.press('Tab'); // the skip link
      await alice.tab.page.keyboard.press('Tab');
      expect(await focused()).toBe('me');
      await alice.tab.page.keyboard.type('alice');
      await alice.tab.page.keyboard.press('Tab');
      expect(await focused()).toBe('connect');
      await alice.tab.page.keyboard.press('Enter');
      await alice.chat.waitForConnection('connected');
      expect(await focused()).toBe('to');
      await alice.tab.page.keyboard.type('bob');
      await alice.tab.page.keyboard.press('Tab');
      expect(await focused()).toBe('body');
      await alice.tab.page.keyboard.type('typed, not clicked');
      await alice.tab.page.keyboard.press('Enter');

      await bob.chat.signIn('bob');
      await alice.chat.waitForMessages([{ body: 'typed, not clicked', mine: true, state: 'delivered' }]);
      await alice.chat.send('carol', 'queued for carol');
      await alice.chat.waitForMessages([{ body: 'queued for carol', mine: true, state: 'queued' }]);
      // A message from bob while carol's conversation is open: bob's button counts it.
      await bob.chat.send('alice', 'unread');
      await alice.tab.page.locator('#peers button[data-peer="bob"] .unread').waitFor({ timeout: PAGE_WAIT_MS });
      expect(await alice.tab.page.getByRole('button', { name: 'bob 1 unread' }).count()).toBe(1);
      expect(await alice.tab.page.evaluate(ACCESSIBILITY_AUDIT)).toEqual([]);
      await alice.tab.screenshot('accessibility-alice');
      await expectNoProblems();
    });

    it('imports /sdk/im-client.js on a page of the gateway and exchanges a message', async () => {
      await start();
      const { tab } = await open(`${gw.httpUrl}/`);
      const bodies = await tab.page.evaluate(EXCHANGE_THROUGH_THE_BUNDLE);
      expect(bodies).toEqual({ status: 'delivered', message: 'sdk-alice: from the bundle' });
      await tab.screenshot('sdk-same-origin');
      await expectNoProblems();
    });
  });

  describe('with settings other than the defaults', () => {
    let gw: TestGateway;
    afterEach(async () => {
      await closeTabs();
      await gw.close();
    });

    it('signs in with a pasted token under AUTH_MODE=jwt', async () => {
      const secret = 'a-test-secret-of-at-least-32-chars!';
      gw = await startGateway({ AUTH_MODE: 'jwt', JWT_SECRET: secret });
      const token = (sub: string) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(sub)
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(secret));
      const alice = await open(`${gw.httpUrl}/`);
      const bob = await open(`${gw.httpUrl}/`);
      for (const [tab, user] of [
        [alice, 'alice'],
        [bob, 'bob'],
      ] as const) {
        await expect(tab.tab.page.getByLabel('Your id', { exact: true }).isVisible()).resolves.toBe(false);
        await tab.tab.page.getByLabel('Token (JWT)').fill(await token(user));
        await tab.tab.page.getByRole('button', { name: 'Connect' }).click();
        await tab.chat.waitForConnection('connected');
        await expect(tab.tab.page.locator('#me-shown').textContent()).resolves.toBe(user);
      }
      await alice.chat.send('bob', 'signed');
      await bob.chat.waitForMessages([{ body: 'signed', mine: false, state: 'received' }]);
      await alice.chat.waitForMessages([{ body: 'signed', mine: true, state: 'delivered' }]);
      await alice.tab.screenshot('jwt-alice');
      await expectNoProblems();
    });

    it('says why and asks to sign in again when the gateway lets the connection go for good', async () => {
      gw = await startGateway({ SESSION_POLICY: 'replace' });
      const first = await open(`${gw.httpUrl}/`);
      const second = await open(`${gw.httpUrl}/`);
      await first.chat.signIn('alice');
      await second.chat.signIn('alice');
      await first.chat.waitForConnection('offline');
      await expect(first.tab.page.getByRole('alert').first().textContent()).resolves.toBe(
        'Signed in from another tab or device: sign in again.',
      );
      expect(await first.tab.page.getByRole('button', { name: 'Connect' }).isVisible()).toBe(true);
      await first.tab.screenshot('replaced-session');
      await expectNoProblems();
    });

    it('lets a page on a listed origin import /sdk/im-client.js from the gateway', async () => {
      const files: Record<string, string> = {};
      const app = await appServer('<script type="module" src="/app.js"></script>', files);
      try {
        gw = await startGateway({ ALLOWED_ORIGINS: app.origin });
        files['/app.js'] = `import { ImClient } from '${gw.httpUrl}/sdk/im-client.js';
const url = '${gw.httpUrl.replace('http', 'ws')}/ws';
const bob = new ImClient({ url, user: 'x-bob' });
const alice = new ImClient({ url, user: 'x-alice' });
bob.on('message', (m) => { document.body.dataset.got = m.from + ': ' + m.body; });
await Promise.all([bob.connect(), alice.connect()]);
document.body.dataset.status = await alice.send('x-bob', 'across origins');`;
        const { tab } = await open(`${app.origin}/`);
        await tab.page.locator('body[data-got="x-alice: across origins"][data-status="delivered"]').waitFor({
          state: 'attached',
          timeout: PAGE_WAIT_MS,
        });
        await tab.screenshot('sdk-cross-origin');
        await expectNoProblems();
      } finally {
        app.close();
      }
    });
  });

  describe('across a gateway restart', () => {
    let gw: ChildGateway | undefined;
    let dir: { remove(): void; path: string };
    afterEach(async () => {
      await closeTabs();
      await gw?.stop('SIGKILL');
      dir.remove();
    });

    it('reconnects both pages by themselves and loses no message, even one sent while the gateway is down', async () => {
      dir = tempDir();
      const env = { OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/offline.db`, SHUTDOWN_DRAIN_MS: '0' };
      const port = await freePort();
      gw = await ChildGateway.start(env, port);
      const url = `http://127.0.0.1:${port}/`;
      const alice = await open(url);
      const bob = await open(url);
      await alice.chat.signIn('alice');
      await bob.chat.signIn('bob');
      await alice.chat.send('bob', 'before');
      await bob.chat.waitForMessages([{ body: 'before', mine: false, state: 'received' }]);

      expect((await gw.stop('SIGTERM')).code).toBe(0);
      await alice.chat.waitForConnection('reconnecting');
      await bob.chat.waitForConnection('reconnecting');
      await alice.chat.send('bob', 'while down');
      await alice.chat.waitForMessages([
        { body: 'before', mine: true, state: 'delivered' },
        { body: 'while down', mine: true, state: 'sending' },
      ]);
      await alice.tab.screenshot('restart-down-alice');

      gw = await ChildGateway.start(env, port);
      await alice.chat.waitForConnection('connected', PAGE_WAIT_MS * 2);
      await bob.chat.waitForConnection('connected', PAGE_WAIT_MS * 2);
      await bob.chat.waitForMessages([
        { body: 'before', mine: false, state: 'received' },
        { body: 'while down', mine: false, state: 'received' },
      ]);
      await bob.chat.send('alice', 'after');
      await alice.chat.waitForMessages([
        { body: 'before', mine: true, state: 'delivered' },
        { body: 'while down', mine: true, state: 'delivered' },
        { body: 'after', mine: false, state: 'received' },
      ]);
      await alice.tab.screenshot('restart-after-alice');
      await bob.tab.screenshot('restart-after-bob');
      await expectNoProblems(REFUSED_SOCKET);
    });
  });
});
