import type WsWebSocket from 'ws';
import { describe, expectTypeOf, it } from 'vitest';
import type { ImClientOptions } from './im-client.options.js';

describe('WebSocket option', () => {
  it('accepts the browser WebSocket and the ws class without a cast', () => {
    expectTypeOf<typeof WebSocket>().toExtend<NonNullable<ImClientOptions['WebSocket']>>();
    expectTypeOf<typeof WsWebSocket>().toExtend<NonNullable<ImClientOptions['WebSocket']>>();
  });
});
