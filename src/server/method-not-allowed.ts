import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

/** The JSON body and `Allow` header of a 405, as documented in docs/API.md and `/openapi.json`. */
export const METHOD_NOT_ALLOWED_CODE = 'method_not_allowed';

interface Template {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * Records the methods of every route as it is added (call before registering routes), so that a
 * request the router did not match can be told apart: a path no route serves is 404, a path some
 * route serves with other methods is 405 with `Allow` (RFC 9110 §15.5.6). Templates are matched
 * per method as the router does: `/v1/sessions/refresh` is served by `POST` (static) and by
 * `DELETE /v1/sessions/:id` (parametric).
 *
 * @example
 * const allowed = trackMethods(app);
 * app.setNotFoundHandler((req, reply) => allowed.refuse(req, reply) || reply.code(404).send(...));
 */
export function trackMethods(app: FastifyInstance) {
  const templates = new Map<string, Template>();
  app.addHook('onRoute', (route: RouteOptions) => {
    let t = templates.get(route.url);
    if (!t) templates.set(route.url, (t = { pattern: templatePattern(route.url), methods: new Set() }));
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      t.methods.add(method);
      // Fastify answers HEAD for every GET route (exposeHeadRoutes), whether or not onRoute saw it.
      if (method === 'GET') t.methods.add('HEAD');
    }
  });

  /** The methods some route serves at this concrete path, sorted; empty when none does. */
  function allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const t of templates.values()) if (t.pattern.test(path)) for (const m of t.methods) methods.add(m);
    return [...methods].sort();
  }

  /** Answers 405 with `Allow` when the path is known under other methods; false (nothing sent) otherwise. */
  function refuse(request: FastifyRequest, reply: FastifyReply): boolean {
    const path = request.url.split('?')[0] ?? '';
    const methods = allowed(path);
    if (methods.length === 0) return false;
    void reply.code(405).header('allow', methods.join(', ')).header('cache-control', 'no-store')
      .send({ error: METHOD_NOT_ALLOWED_CODE, message: `${request.method} is not served at ${path.slice(0, 200)}; allowed: ${methods.join(', ')}` });
    return true;
  }

  return { allowed, refuse };
}

function templatePattern(url: string): RegExp {
  const escaped = url.split('/').map((segment) => {
    if (segment === '*') return '.*';
    if (segment.startsWith(':')) return '[^/]+';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('/');
  return new RegExp(`^${escaped}$`);
}
