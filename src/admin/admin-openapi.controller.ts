import { Controller, Get, UseGuards } from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { ApiExcludeController, type OpenAPIObject } from '@nestjs/swagger';
import { AdminTokenGuard } from './admin-token.guard.js';
import { createAdminDocument } from './admin-openapi.document.js';

/**
 * Serves the admin OpenAPI document as JSON (no UI, so no static assets). It needs the token like
 * every admin route: the schema is of no use to anyone who cannot call the API, and it would tell
 * a scanner that an admin API is enabled here.
 */
@ApiExcludeController()
@UseGuards(AdminTokenGuard)
@Controller('admin')
export class AdminOpenApiController {
  private document: OpenAPIObject | undefined;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Built on first request, once every module is loaded; the routes never change afterwards. */
  @Get('openapi.json')
  openApi(): OpenAPIObject {
    this.document ??= createAdminDocument(this.modules, this.adapterHost.httpAdapter);
    return this.document;
  }
}
