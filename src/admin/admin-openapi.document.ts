import type { INestApplication } from '@nestjs/common';
import { type AbstractHttpAdapter, ApplicationConfig, type ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_SECURITY_SCHEME } from './admin.constants.js';
import { AdminApiModule } from './admin-api.module.js';

/**
 * The OpenAPI document of the admin routes. `SwaggerModule` scans an application, but reads only
 * three parts of it: its modules, its config (global prefix and versioning, neither of which the
 * gateway sets) and its HTTP adapter. The first and last are injectable, so the document is built
 * from inside the application instead of by its factory.
 */
export function createAdminDocument(modules: ModulesContainer, httpAdapter: AbstractHttpAdapter): OpenAPIObject {
  const scanned = {
    container: { getModules: () => modules },
    config: new ApplicationConfig(),
    getHttpAdapter: () => httpAdapter,
  } as unknown as INestApplication;
  const info = new DocumentBuilder()
    .setTitle('im-gateway admin API')
    .setDescription('Operator routes, enabled by ADMIN_TOKEN. Every route needs `Authorization: Bearer <ADMIN_TOKEN>`.')
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'ADMIN_TOKEN' },
      ADMIN_SECURITY_SCHEME,
    )
    .build();
  return SwaggerModule.createDocument(scanned, info, { include: [AdminApiModule] });
}
