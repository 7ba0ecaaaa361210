import { describe, expect, it } from 'vitest';
import { decodeServerFrame, encodeAck, encodeSend } from './wire.codec.js';

describe('wire codec', () => {
  it('writes the frames the server expects', () => {
    expect(JSON.parse(encodeSend('c1', 'bob', 'hi'))).toEqual({
      event: 'send',
      data: { id: 'c1', to: 'bob', body: 'hi' },
    });
    expect(JSON.parse(encodeAck(['m1', 'm2']))).toEqual({ event: 'ack', data: { ids: ['m1', 'm2'] } });
  });

  it('reads each server event', () => {
    const frames = {
      message: { id: 'm1', from: 'bob', to: 'alice', body: 'hi', ts: 1 },
      sent: { id: 'c1', messageId: 'm1', status: 'queued' },
      receipt: { messageId: 'm1', status: 'delivered' },
      error: { code: 'BAD_FRAME', message: 'no' },
    };
    for (const [event, data] of Object.entries(frames)) {
      expect(decodeServerFrame(JSON.stringify({ event, data }))).toEqual({ event, data });
    }
    expect(decodeServerFrame('{"event":"pong","data":{"ts":5}}')).toEqual({ event: 'pong' });
  });

  it('skips events it does not know, so a newer server stays compatible', () => {
    expect(decodeServerFrame('{"event":"typing","data":{"from":"bob"}}')).toEqual({ event: 'ignored' });
  });

  it('rejects frames that are not JSON or whose data does not fit the event', () => {
    for (const text of [
      'bob|hi',
      '[]',
      '{"data":{}}',
      '{"event":"message","data":{"id":"m1","from":"bob","to":"alice","body":"hi"}}',
      '{"event":"sent","data":{"id":"c1","messageId":"m1","status":"lost"}}',
      '{"event":"error","data":{"message":"no code"}}',
    ]) {
      expect(decodeServerFrame(text), text).toBeUndefined();
    }
  });
});
