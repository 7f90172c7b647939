import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Scope } from '../auth/api-keys.js';
import { actorOf, type Principal, resolvePrincipal } from '../auth/authenticate.js';
import { type LoginResult, login, logout } from '../auth/login.js';
import { type Need, permissionsOf } from '../auth/roles.js';
import { isCollectorPath, securityHeaders } from '../auth/security-headers.js';
import type { Client } from '../auth/services.js';
import { csrfTokenFor } from '../auth/sessions.js';
import { completeSetup } from '../auth/setup.js';
import type { User } from '../auth/users.js';
import { HttpError, type ServerDeps } from './server.js';

export const SESSION_COOKIE = 'sp_session';
const SCOPES: readonly Scope[] = ['query', 'admin'];

/**
 * Checks that the caller (a session or an API key) may do what `need` names, or throws
 * 401/403. Routes call it first: `authenticate(deps, req, { role: 'viewer' })`.
 */
export function authenticate(deps: ServerDeps, req: FastifyRequest, need: Need): Principal {
  const auth = req.headers.authorization;
  const csrf = req.headers['x-csrf-token'];
  const outcome = resolvePrincipal(
    deps.auth,
    {
      method: req.method,
      bearer: auth?.startsWith('Bearer ') ? auth.slice(7).trim() || null : null,
      sessionId: req.cookies[SESSION_COOKIE] || null,
      csrfToken: typeof csrf === 'string' ? csrf : null,
    },
    need,
  );
  if (!outcome.ok) throw new HttpError(outcome.status, outcome.reason);
  return outcome.principal;
}

export const clientOf = (req: FastifyRequest): Client => ({
  ip: req.ip ?? null,
  userAgent: req.headers['user-agent'] ?? null,
});

const isSecure = (deps: ServerDeps, req: FastifyRequest) =>
  deps.config.auth.secureCookies || req.protocol === 'https';

function stringFields<K extends string>(body: unknown, keys: K[]): Record<K, string> {
  const b = body as Record<string, unknown> | null;
  const missing = keys.filter((k) => typeof b?.[k] !== 'string' || b[k] === '');
  if (!b || typeof b !== 'object' || missing.length > 0) {
    throw new HttpError(
      400,
      `send JSON with ${keys.map((k) => `"${k}"`).join(', ')} (missing: ${missing.join(', ')})`,
    );
  }
  return b as Record<K, string>;
}

/** A sign-in form posted from another site would log the victim into the attacker's account. */
function requireSameOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  if (!origin) return;
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {
    // `Origin: null` (sandboxed frames) and garbage are refused below.
  }
  if (host !== req.host) throw new HttpError(403, `cross-origin request from ${origin} refused`);
}

const userView = (u: User) => ({ id: u.id, email: u.email, role: u.role });

function sendLogin(deps: ServerDeps, req: FastifyRequest, reply: FastifyReply, r: LoginResult, code = 200) {
  if (!r.ok) {
    if (r.retryAfterMs) reply.header('retry-after', String(Math.ceil(r.retryAfterMs / 1000)));
    throw new HttpError(r.status, r.reason);
  }
  reply.setCookie(SESSION_COOKIE, r.sessionId, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: isSecure(deps, req),
    maxAge: Math.floor((r.session.expiresAt - Date.now()) / 1000),
  });
  return reply.code(code).send({
    user: userView(r.user),
    permissions: permissionsOf(r.user.role),
    csrfToken: r.csrfToken,
    expiresAt: deps.auth.sessions.endsAt(r.session),
  });
}

/**
 * Security headers on every response. They are set on the raw response, so streams and 404s carry
 * them too, and a route's own `reply.header()` still wins (Node gives writeHead's headers precedence).
 */
function registerSecurityHeaders(app: FastifyInstance, deps: ServerDeps): void {
  app.addHook('onRequest', async (req, reply) => {
    for (const [name, value] of Object.entries(securityHeaders(req.url, isSecure(deps, req)))) {
      reply.raw.setHeader(name, value);
    }
    // API answers may name users and keys: no shared or browser cache keeps them.
    if (req.url.startsWith('/api/') && !isCollectorPath(req.url))
      reply.raw.setHeader('cache-control', 'no-store');
  });
}

export async function registerAuthRoutes(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  await app.register(fastifyCookie);
  registerSecurityHeaders(app, deps);
  const { auth } = deps;

  app.post('/api/v1/setup', async (req, reply) => {
    requireSameOrigin(req);
    const body = stringFields(req.body, ['token', 'email', 'password']);
    return sendLogin(deps, req, reply, await completeSetup(auth, body, clientOf(req)), 201);
  });

  app.post('/api/v1/login', async (req, reply) => {
    requireSameOrigin(req);
    const body = stringFields(req.body, ['email', 'password']);
    return sendLogin(deps, req, reply, await login(auth, body, clientOf(req)));
  });

  app.post('/api/v1/logout', async (req, reply) => {
    // Without a live session there is nothing to end; the cookie is cleared either way.
    const sessionId = req.cookies[SESSION_COOKIE];
    const session = sessionId ? auth.sessions.resume(sessionId) : null;
    if (session) {
      const p = authenticate(deps, req, { role: 'viewer' });
      if (p.kind === 'session') logout(auth, p.sessionId, p.user, clientOf(req));
    }
    reply.clearCookie(SESSION_COOKIE, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: isSecure(deps, req),
    });
    return reply.code(204).send();
  });

  app.get('/api/v1/me', async (req) => {
    const p = authenticate(deps, req, { role: 'viewer' });
    if (p.kind === 'api-key') return { apiKey: { id: p.key.id, name: p.key.name, scopes: p.key.scopes } };
    return {
      user: userView(p.user),
      permissions: permissionsOf(p.user.role),
      csrfToken: csrfTokenFor(p.sessionId),
      expiresAt: auth.sessions.endsAt(p.session),
    };
  });

  app.get('/api/v1/api-keys', async (req) => {
    authenticate(deps, req, { role: 'admin' });
    return { apiKeys: auth.apiKeys.list() };
  });

  app.post('/api/v1/api-keys', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'admin' });
    const body = req.body as { name?: unknown; scopes?: unknown } | null;
    const scopes = body?.scopes ?? ['query'];
    if (
      typeof body?.name !== 'string' ||
      body.name.trim() === '' ||
      !Array.isArray(scopes) ||
      scopes.length === 0 ||
      !scopes.every((s) => SCOPES.includes(s))
    ) {
      throw new HttpError(
        400,
        `send {"name": "what it is for", "scopes": [${SCOPES.map((s) => `"${s}"`).join(' | ')}]}`,
      );
    }
    const { key, info } = auth.apiKeys.create(body.name.trim().slice(0, 200), scopes as Scope[]);
    auth.audit.record({
      action: 'api_key_created',
      actor: actorOf(p),
      target: info.id,
      detail: { name: info.name, scopes: info.scopes },
      ...clientOf(req),
    });
    // The secret is in this answer only; the server keeps its hash.
    return reply.code(201).send({ key, apiKey: info });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/api-keys/:id', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'admin' });
    if (!auth.apiKeys.revoke(req.params.id)) throw new HttpError(404, `no active API key ${req.params.id}`);
    auth.audit.record({
      action: 'api_key_revoked',
      actor: actorOf(p),
      target: req.params.id,
      ...clientOf(req),
    });
    return reply.code(204).send();
  });

  app.get<{ Querystring: { limit?: string; before?: string } }>('/api/v1/audit', async (req) => {
    authenticate(deps, req, { role: 'admin' });
    const int = (v: string | undefined, name: string) => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new HttpError(400, `${name} must be a whole number`);
      return Number(v);
    };
    const entries = auth.audit.list({
      limit: int(req.query.limit, 'limit'),
      before: int(req.query.before, 'before'),
    });
    return { entries, next: entries.length > 0 ? entries[entries.length - 1].id : null };
  });
}
