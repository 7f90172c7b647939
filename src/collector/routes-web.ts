import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The dashboard's pages: each loads the same SPA shell, which shows the login page until signed in
 * (`/setup?token=` is the first-run link that creates the first admin).
 */
export const DASHBOARD_PAGES = [
  '/',
  '/live',
  '/ops',
  '/sql',
  '/catalog',
  '/reports',
  '/customers',
  '/recommendations',
  '/alerts',
  '/logs',
  '/admin',
  '/login',
  '/setup',
] as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
// Vite names assets by content hash, so a browser may keep them forever; the shell must be revalidated.
const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHELL = 'no-cache';
const SAFE_NAME = /^[A-Za-z0-9][\w.-]*$/;

const here = dirname(fileURLToPath(import.meta.url));
export const defaultWebDir = () => join(here, '..', '..', 'web', 'dist');

/**
 * Serves the built dashboard (`npm run build:web` → web/dist) from the collector's origin, so the
 * CSP can stay `'self'` and the session cookie reaches the API. Only the page paths and built files
 * are routed: /api and collector paths keep their own 404s.
 */
export function registerWebRoutes(app: FastifyInstance, dir = defaultWebDir()): void {
  const send = async (reply: FastifyReply, file: string, cache: string) => {
    const body = await readFile(join(dir, file)).catch(() => null);
    if (!body) {
      if (file !== 'index.html') return reply.code(404).send({ error: `no dashboard file ${file}` });
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`the dashboard is not built: run \`npm run build:web\` (looked in ${dir})`);
    }
    return reply
      .type(CONTENT_TYPES[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', cache)
      .send(body);
  };

  for (const page of DASHBOARD_PAGES) {
    app.get(page, async (_req, reply) => send(reply, 'index.html', SHELL));
  }
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const { file } = req.params;
    if (!SAFE_NAME.test(file)) return reply.code(404).send({ error: 'no such asset' });
    return send(reply, join('assets', file), IMMUTABLE);
  });
  app.get('/favicon.svg', async (_req, reply) => send(reply, 'favicon.svg', 'public, max-age=86400'));
}
