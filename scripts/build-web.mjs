// Builds what the gateway serves with WEB_CLIENT on, into public/build/: the SDK package
// (client/dist, whose browser bundle becomes /sdk/im-client.js) and the chat page, whose script
// and style are named by content hash so that browsers may keep them forever.
// Part of `npm run build`; the gateway reads the result at boot.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BROWSER_BUNDLE, buildClient } from '../client/build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'public');
const out = join(source, 'build');
const assets = join(out, 'assets');

/** The page imports the SDK from the gateway's own route instead of carrying a second copy. */
const SDK_URL = '/sdk/im-client.js';
const sdkFromGateway = {
  name: 'sdk-from-gateway',
  setup(b) {
    b.onResolve({ filter: /\/client\/index\.js$/ }, () => ({ path: SDK_URL, external: true }));
  },
};

await buildClient();
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'sdk'), { recursive: true });
copyFileSync(BROWSER_BUNDLE, join(out, 'sdk', 'im-client.js'));

const result = await build({
  entryPoints: { app: join(source, 'main.ts'), style: join(source, 'style.css') },
  outdir: assets,
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  plugins: [sdkFromGateway],
  logLevel: 'warning',
});

/** Source file (relative to public/) -> URL of its built, hashed file. */
const urls = new Map();
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (output.entryPoint !== undefined) urls.set(basename(output.entryPoint), `/${relative(out, join(root, file))}`);
}
const icon = readFileSync(join(source, 'icon.svg'));
const iconName = `icon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
writeFileSync(join(assets, iconName), icon);
urls.set('icon.svg', `/assets/${iconName}`);

let html = readFileSync(join(source, 'index.html'), 'utf8');
for (const [file, url] of urls) {
  const attribute = new RegExp(`(src|href)="${file.replace('.', '\\.')}"`);
  if (!attribute.test(html)) throw new Error(`public/index.html does not reference ${file}`);
  html = html.replace(attribute, `$1="${url}"`);
}
writeFileSync(join(out, 'index.html'), html);
