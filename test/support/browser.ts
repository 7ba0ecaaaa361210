import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs the `chromium` package when it is missing. No browser is downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless, as root in a container (no sandbox), and quiet: nothing of Chromium's own reaches
 * the network (updates, first-run pages, background services), so only the page's traffic remains.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** A waiting page assertion: generous, as pages reconnect with backoff on a busy machine. */
export const PAGE_WAIT_MS = 15_000;

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** What a page reported that a user would call broken: console errors, uncaught exceptions, CSP violations. */
export interface PageProblems {
  readonly console: string[];
  readonly csp: string[];
}

/** A tab of its own user: its own context (storage), phone-sized, watched for problems. */
export class BrowserTab {
  readonly problems: PageProblems = { console: [], csp: [] };

  private constructor(
    readonly context: BrowserContext,
    public page: Page,
  ) {}

  static async open(browser: Browser, url: string): Promise<BrowserTab> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const tab = new BrowserTab(context, await context.newPage());
    await tab.watch(url);
    return tab;
  }

  /** Opens the page again in the same context (its storage kept), as a user reopening a closed tab. */
  async reopen(url: string): Promise<void> {
    this.page = await this.context.newPage();
    await this.watch(url);
  }

  /** Every CSP violation the page saw, read from the page. */
  async cspViolations(): Promise<string[]> {
    const seen = await this.page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations);
    return [...this.problems.csp, ...(seen ?? [])];
  }

  /** Saves the page as it is now under test-results/ (not committed). */
  async screenshot(name: string): Promise<void> {
    mkdirSync(RESULTS, { recursive: true });
    await this.page.screenshot({ path: `${RESULTS}${name}.png`, fullPage: true });
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  private async watch(url: string): Promise<void> {
    const page = this.page;
    page.on('console', (message) => {
      if (message.type() === 'error') this.problems.console.push(message.text());
    });
    page.on('pageerror', (error) => this.problems.console.push(`uncaught: ${error.message}`));
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) => {
        seen.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
      });
    });
    await page.goto(url);
  }
}

/**
 * An app's own web server on another loopback port, so another origin than the gateway's (one
 * that ALLOWED_ORIGINS may list). On loopback, as Chromium lets only secure pages reach loopback.
 */
export async function appServer(
  html: string,
  files: Record<string, string>,
): Promise<{ origin: string; close(): void }> {
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<!doctype html><title>app</title><link rel="icon" href="data:,">${html}`);
      return;
    }
    const body = files[req.url ?? ''];
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
