import { Controller, Get, Headers, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config.js';
import { type OriginMatcher, originMatcher } from '../config/origin-matcher.js';
import { pageContentSecurityPolicy } from './content-security.policy.js';
import { moduleScriptCors } from './module-script.cors.js';
import { WebAssets, type WebAsset } from './web-assets.js';
import { COMMON_HEADERS } from './web.constants.js';

/** The parts of Fastify's reply this controller uses. */
interface Reply {
  code(status: number): Reply;
  headers(values: Record<string, string>): Reply;
  send(body?: Buffer): unknown;
}

const NOT_MODIFIED = 304;

/** The chat page (`/`), its hashed assets, and the SDK bundle that pages import. */
@ApiExcludeController()
@Controller()
export class WebController {
  private readonly allowsOrigin: OriginMatcher | undefined;

  constructor(
    private readonly files: WebAssets,
    private readonly config: AppConfig,
  ) {
    this.allowsOrigin = originMatcher(config.auth.allowedOrigins);
  }

  @Get()
  page(
    @Headers('host') host: string | undefined,
    @Headers('if-none-match') etag: string | undefined,
    @Res() reply: Reply,
  ) {
    send(reply, this.files.page, etag, {
      'content-security-policy': pageContentSecurityPolicy(host, this.config.ws.path),
      'x-frame-options': 'DENY',
    });
  }

  @Get('sdk/im-client.js')
  sdk(
    @Headers('origin') origin: string | undefined,
    @Headers('if-none-match') etag: string | undefined,
    @Res() reply: Reply,
  ) {
    send(reply, this.files.sdk, etag, {
      ...moduleScriptCors(origin, this.allowsOrigin),
      // Pages that isolate themselves (COEP) may embed it too.
      'cross-origin-resource-policy': 'cross-origin',
    });
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Headers('if-none-match') etag: string | undefined, @Res() reply: Reply) {
    const file = this.files.asset(name);
    if (file === undefined) throw new NotFoundException();
    send(reply, file, etag, {});
  }
}

/** The file with its headers, or 304 when the browser's copy is current. */
function send(reply: Reply, file: WebAsset, ifNoneMatch: string | undefined, extra: Record<string, string>): void {
  reply.headers({
    ...COMMON_HEADERS,
    ...extra,
    'content-type': file.contentType,
    'cache-control': file.cacheControl,
    etag: file.etag,
  });
  if (ifNoneMatch?.split(',').some((tag) => tag.trim() === file.etag)) {
    reply.code(NOT_MODIFIED).send();
    return;
  }
  reply.send(file.body);
}
