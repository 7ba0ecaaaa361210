import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('chat page and SDK routes', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw!.httpUrl}${path}`, { headers });

  it('serves the page with its policy, a validator and the gateway settings it needs', async () => {
    gw = await startGateway({ WEB_CLIENT: 'true', WS_PATH: '/chat' });
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src ws://127.0.0.1:${gw.port}/chat wss://127.0.0.1:${gw.port}/chat;`);
    expect(csp).not.toContain('unsafe');
    const html = await res.text();
    expect(html).toContain('data-ws-path="/chat" data-auth-mode="query"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\son[a-z]+=/);

    const etag = res.headers.get('etag')!;
    const again = await get('/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves each asset the page names, cached for good under its hashed name, and nothing else', async () => {
    gw = await startGateway({ WEB_CLIENT: 'true' });
    const html = await (await get('/')).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(3);
    for (const path of assets) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toMatch(/^(text\/javascript|text\/css|image\/svg\+xml)/);
    }
    for (const path of ['/assets/missing.js', '/assets/..%2Findex.html', '/assets/%2e%2e%2fpackage.json']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });

  it('serves the SDK as an ES module that listed origins may import', async () => {
    gw = await startGateway({ WEB_CLIENT: 'true', ALLOWED_ORIGINS: 'https://app.example' });
    const res = await get('/sdk/im-client.js', { origin: 'https://app.example' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('vary')).toBe('Origin');
    expect(await res.text()).toMatch(/export\s*\{[^}]*\bImClient\b/);
    const other = await get('/sdk/im-client.js', { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('asks for a token on the page under AUTH_MODE=jwt', async () => {
    gw = await startGateway({ WEB_CLIENT: 'true', AUTH_MODE: 'jwt', JWT_SECRET: 's'.repeat(32) });
    expect(await (await get('/')).text()).toContain('data-auth-mode="jwt"');
  });

  it('has neither route with WEB_CLIENT=false', async () => {
    gw = await startGateway({ WEB_CLIENT: 'false' });
    for (const path of ['/', '/sdk/im-client.js']) expect((await get(path)).status, path).toBe(404);
  });
});
