import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appWiring } from './app.wiring.js';
import type { AppConfig } from './config/app-config.js';

/** Builds the application (HTTP on Fastify, WebSocket on `ws`) without listening. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const wiring = appWiring(config);
  const app = await NestFactory.create<NestFastifyApplication>(wiring.module, wiring.httpAdapter, wiring.options);
  wiring.configure(app);
  return app;
}
