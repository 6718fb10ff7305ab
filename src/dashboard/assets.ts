// The page and what it loads, served from memory under a fixed table of URLs: the HTML and CSS
// from src/ui/, the compiled modules from dist/ui/ (tsc builds them with the rest), uPlot from
// its package. Nothing here maps a URL onto a path, so no request can reach another file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../errors.js';

interface Asset { body: Buffer; type: string; etag: string }

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The page may load only its own scripts and talk only to this server. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** src/dashboard/ and dist/dashboard/ both sit two levels below the package root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The page's head: every module preloaded, and the key for /v1 where there is one. */
function pageHead(modules: string[], pageKey: string | undefined): string {
  const tags = modules.map((m) => `<link rel="modulepreload" href="${m}">`);
  if (pageKey !== undefined) {
    // Written into HTML unescaped, so only characters that need no escaping.
    if (!/^[A-Za-z0-9_-]+$/.test(pageKey)) throw new Error('the page key must be base64url');
    tags.push(`<meta name="scalelab-key" content="${pageKey}">`);
  }
  return tags.join('\n  ');
}

export function loadAssets(pageKey?: string): Map<string, Asset> {
  const ui = path.join(ROOT, 'src', 'ui');
  const built = path.join(ROOT, 'dist', 'ui');
  if (!fs.existsSync(path.join(built, 'app.js'))) {
    throw new UsageError(`the dashboard's page is not built (${built} has no app.js); run \`npm run build\` or \`npx tsc -p tsconfig.json\``);
  }
  const uplot = path.dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  const table = new Map<string, string>([
    ['/', path.join(ui, 'index.html')],
    ['/ui/style.css', path.join(ui, 'style.css')],
    ['/vendor/uPlot.iife.min.js', path.join(uplot, 'dist', 'uPlot.iife.min.js')],
    ['/vendor/uPlot.min.css', path.join(uplot, 'dist', 'uPlot.min.css')],
  ]);
  // The page's modules, and the pure ones it shares with the server (src/common/).
  for (const dir of ['ui', 'common']) {
    for (const f of fs.readdirSync(path.join(ROOT, 'dist', dir))) {
      if (/^[a-z0-9-]+\.js(\.map)?$/.test(f)) table.set(`/${dir}/${f}`, path.join(ROOT, 'dist', dir, f));
    }
  }
  const modules = [...table.keys()].filter((u) => /^\/(ui|common)\//.test(u) && u.endsWith('.js'));
  const assets = new Map<string, Asset>();
  for (const [url, file] of table) {
    let body = fs.readFileSync(file);
    // Every module is requested at once instead of level by level down the import graph.
    if (url === '/') body = Buffer.from(body.toString('utf8').replace('<!-- modules -->', pageHead(modules, pageKey)));
    const etag = `"${crypto.createHash('sha1').update(body).digest('base64url')}"`;
    assets.set(url, { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag });
  }
  return assets;
}

export function registerAssets(app: FastifyInstance, assets: Map<string, Asset>): void {
  for (const [url, a] of assets) {
    app.get(url, async (req, reply) => {
      reply.header('cache-control', 'no-cache').header('etag', a.etag).header('x-content-type-options', 'nosniff');
      if (a.type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
      if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.type(a.type).send(a.body);
    });
  }
}
