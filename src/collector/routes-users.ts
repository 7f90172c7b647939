import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isRole, ROLES, type Role } from '../auth/roles.js';
import { type AdminResult, addUser, type Caller, changeUser, removeUser } from '../auth/user-admin.js';
import type { User } from '../auth/users.js';
import { authenticate } from './routes-auth.js';
import { HttpError, isInvalidBody, type ServerDeps } from './server.js';

const userView = (u: User) => ({
  id: u.id,
  email: u.email,
  role: u.role,
  createdAt: u.createdAt,
  updatedAt: u.updatedAt,
});

/**
 * The JSON object a request sent, with only the named string fields: an unknown or mistyped field
 * is refused by name rather than ignored (a typo in "role" must not look like success).
 */
function fieldsOf<R extends string, O extends string = never>(
  body: unknown,
  required: R[],
  optional: O[] = [],
): Record<R, string> & Partial<Record<O, string>> {
  if (isInvalidBody(body)) throw new HttpError(400, body.__invalid);
  const allowed: string[] = [...required, ...optional];
  const shape = allowed.map((k) => `"${k}"`).join(', ');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, `send a JSON object with ${shape}`);
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new HttpError(400, `unknown field ${unknown.join(', ')}; send only ${shape}`);
  for (const k of allowed) {
    if (b[k] !== undefined && typeof b[k] !== 'string') throw new HttpError(400, `"${k}" must be a string`);
  }
  const missing = required.filter((k) => !b[k]);
  if (missing.length > 0) throw new HttpError(400, `missing ${missing.map((k) => `"${k}"`).join(', ')}`);
  return b as Record<R, string> & Partial<Record<O, string>>;
}

function roleOf(v: string): Role {
  if (isRole(v)) return v;
  throw new HttpError(400, `role must be one of ${ROLES.join(', ')}`);
}

const unwrap = <T>(r: AdminResult<T>): T => {
  if (!r.ok) throw new HttpError(r.status, r.reason);
  return r.value;
};

/** Only an admin session or an admin API key gets this far; the session also passed the CSRF check. */
const adminCaller = (deps: ServerDeps, req: FastifyRequest): Caller => ({
  principal: authenticate(deps, req, { role: 'admin' }),
  client: { ip: req.ip ?? null, userAgent: req.headers['user-agent'] ?? null },
});

/** Dashboard users over HTTP, for admins: the same rules as `storepulse users …`, audited the same way. */
export function registerUserRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { auth } = deps;

  app.get('/api/v1/users', async (req) => {
    authenticate(deps, req, { role: 'admin' });
    return { users: auth.users.list().map(userView) };
  });

  app.post('/api/v1/users', async (req, reply) => {
    const caller = adminCaller(deps, req);
    const b = fieldsOf(req.body, ['email', 'role', 'password']);
    const user = unwrap(await addUser(auth, caller, { ...b, role: roleOf(b.role) }));
    return reply.code(201).send({ user: userView(user) });
  });

  app.patch<{ Params: { id: string } }>('/api/v1/users/:id', async (req) => {
    const caller = adminCaller(deps, req);
    const b = fieldsOf(req.body, [], ['role', 'password']);
    const change = { role: b.role === undefined ? undefined : roleOf(b.role), password: b.password };
    const user = unwrap(await changeUser(auth, caller, req.params.id, change));
    return { user: userView(user) };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/users/:id', async (req, reply) => {
    const caller = adminCaller(deps, req);
    unwrap(removeUser(auth, caller, req.params.id));
    return reply.code(204).send();
  });
}
