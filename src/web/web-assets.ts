import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import {
  ASSETS_DIR,
  AUTH_MODE_PLACEHOLDER,
  CONTENT_TYPES,
  IMMUTABLE,
  PAGE_FILE,
  REVALIDATE,
  SDK_FILE,
  WS_PATH_PLACEHOLDER,
} from './web.constants.js';

/** One file, ready to send. */
export interface WebAsset {
  readonly body: Buffer;
  readonly contentType: string;
  /** A strong validator: the body's hash. */
  readonly etag: string;
  readonly cacheControl: string;
}

/** The text of an HTML attribute value, with nothing that could end the attribute. */
function escapeAttribute(value: string): string {
  return value.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function asset(body: Buffer, file: string, cacheControl: string): WebAsset {
  const contentType = CONTENT_TYPES[extname(file)];
  if (contentType === undefined) throw new Error(`web client: no content type for ${file}`);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, contentType, etag, cacheControl };
}

/**
 * The chat page, its assets and the SDK bundle, read once at boot and served from memory: a few
 * tens of kilobytes that never change while the process runs. Missing files stop the boot, with
 * what to run, in one line: they are read when the module starts, where a failure is reported as
 * it is, not while Nest builds its providers, which logs a stack trace first.
 */
export class WebAssets implements OnModuleInit {
  page!: WebAsset;
  sdk!: WebAsset;
  private assets: ReadonlyMap<string, WebAsset> = new Map();

  constructor(
    private readonly root: string,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { root, config } = this;
    if (!existsSync(join(root, PAGE_FILE)) || !existsSync(join(root, SDK_FILE))) {
      throw new Error(
        `WEB_CLIENT is on but the chat page is not built (${root}): run \`npm run build\`, or set WEB_CLIENT=false`,
      );
    }
    const html = readFileSync(join(root, PAGE_FILE), 'utf8')
      .replaceAll(WS_PATH_PLACEHOLDER, escapeAttribute(config.ws.path))
      .replaceAll(AUTH_MODE_PLACEHOLDER, config.auth.mode);
    this.page = asset(Buffer.from(html), PAGE_FILE, REVALIDATE);
    this.sdk = asset(readFileSync(join(root, SDK_FILE)), SDK_FILE, REVALIDATE);
    const dir = join(root, ASSETS_DIR);
    this.assets = new Map(
      readdirSync(dir).map((name) => [name, asset(readFileSync(join(dir, name)), name, IMMUTABLE)] as const),
    );
  }

  /** A hashed asset by file name; undefined for any other name (no path is ever built from it). */
  asset(name: string): WebAsset | undefined {
    return this.assets.get(name);
  }
}
