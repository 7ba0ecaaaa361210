import { describe, expect, it } from 'vitest';
import { pageContentSecurityPolicy } from './content-security.policy.js';

const directives = (policy: string) => new Map(policy.split('; ').map((d) => [d.split(' ')[0], d] as const));

describe('pageContentSecurityPolicy', () => {
  it("allows only this origin for code, styles and images, and only this host's WebSocket endpoint", () => {
    const csp = directives(pageContentSecurityPolicy('chat.example.com:8080', '/ws'));
    expect(csp.get('default-src')).toBe("default-src 'none'");
    expect(csp.get('script-src')).toBe("script-src 'self'");
    expect(csp.get('style-src')).toBe("style-src 'self'");
    expect(csp.get('img-src')).toBe("img-src 'self'");
    expect(csp.get('connect-src')).toBe('connect-src ws://chat.example.com:8080/ws wss://chat.example.com:8080/ws');
    expect(csp.get('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(pageContentSecurityPolicy('[::1]:80', '/ws')).toContain('connect-src ws://[::1]:80/ws wss://[::1]:80/ws;');
  });

  it('allows no connection at all for a Host header that is not a host', () => {
    for (const host of [undefined, '', 'evil.com; script-src *', 'a b', 'x.com/path']) {
      expect(pageContentSecurityPolicy(host, '/ws')).toContain("connect-src 'none';");
    }
  });

  it('keeps a WebSocket path that contains separators inside its source expression', () => {
    expect(pageContentSecurityPolicy('h', '/a;b,c d')).toContain(
      'connect-src ws://h/a%3Bb%2Cc%20d wss://h/a%3Bb%2Cc%20d;',
    );
  });
});
