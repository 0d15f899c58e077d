import type { FastifyInstance, RouteOptions } from 'fastify';
import { errorSchema } from './schemas.js';

/** What a route adds to its Fastify schema for the OpenAPI document (Fastify ignores these keys). */
export interface OpenApiRouteMeta {
  summary?: string;
  description?: string;
  tags?: string[];
  operationId?: string;
  /** Security requirement names: `apiKey`, `sessionCookie`, `bearer`, `refreshCookie`. */
  security?: string[][];
  /** Responses documented as is, for routes whose bodies Fastify must not serialise (text, HTML). */
  openapiResponses?: Record<string, unknown>;
  /** A request body documented as is, for routes that read a body Fastify does not parse as JSON (a form). */
  openapiRequestBody?: Record<string, unknown>;
}

interface CollectedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown>;
}

const REQUEST_ID_HEADER = {
  'X-Request-Id': { description: 'The request id: echoed from the request, or generated.', schema: { type: 'string' } },
};

/**
 * Collects the routes of a Fastify app as they are added (call before registering them), and
 * builds the OpenAPI 3.1 document from their JSON schemas. Only routes that exist are described,
 * so a capability that is not built is absent from the document as it is from the server.
 *
 * @example
 * const openapi = collectOpenApi(app);
 * app.get('/openapi.json', () => openapi.document());
 */
export function collectOpenApi(app: FastifyInstance, info: { title: string; version: string; description?: string }) {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    if (schema.hide === true) return;
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method: method.toLowerCase(), url: route.url, schema });
    }
  });
  let cached: Record<string, unknown> | null = null;

  function document(): Record<string, unknown> {
    if (cached) return cached;
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      (paths[path] ??= {})[r.method] = operation(r);
    }
    cached = {
      openapi: '3.1.0',
      info,
      jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
      paths,
      components: {
        responses: {
          // Every known path answers a method it does not serve with this (src/server/method-not-allowed.ts).
          MethodNotAllowed: {
            description: 'A method the path does not serve: `method_not_allowed`, with the methods it does serve in `Allow` (HEAD wherever GET is).',
            headers: {
              Allow: { description: 'The methods this path serves, e.g. `GET, HEAD`.', required: true, schema: { type: 'string' } },
              ...REQUEST_ID_HEADER,
            },
            content: { 'application/json': { schema: errorSchema } },
          },
        },
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (`sessionkit keys create`); scopes `sessions` or `admin`.' },
          bearer: { type: 'http', scheme: 'bearer', description: 'The session token (or JWT access token) in `Authorization: Bearer`. Never together with the session cookie: both at once is 400 `invalid_request`.' },
          refreshCookie: { type: 'apiKey', in: 'cookie', name: '__Host-sessionkit-refresh', description: 'The refresh-token cookie of a JWT session created with setCookie (`sessionkit-refresh` with insecureCookies); needs `X-CSRF-Token` and a same-origin `Origin` or `Sec-Fetch-Site`.' },
          dashboardCookie: { type: 'apiKey', in: 'cookie', name: '__Host-sessionkit-dashboard', description: 'The dashboard sign-in cookie set by `POST /dashboard/login` (`sessionkit-dashboard` with insecureCookies). Writes also need its `X-CSRF-Token` and a same-origin `Origin` or `Sec-Fetch-Site`.' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-sessionkit', description: 'The session cookie (`sessionkit` with insecureCookies). Unsafe methods also need `X-CSRF-Token` and a same-origin `Origin` or `Sec-Fetch-Site`. Never together with `Authorization: Bearer`: both at once is 400 `invalid_request`.' },
        },
      },
    };
    return cached;
  }

  return { document, routes: () => routes.map(({ method, url }) => ({ method, url })) };
}

function operation(r: CollectedRoute): Record<string, unknown> {
  const s = r.schema as Record<string, unknown> & OpenApiRouteMeta;
  const op: Record<string, unknown> = {};
  if (s.operationId) op.operationId = s.operationId;
  if (s.summary) op.summary = s.summary;
  if (s.description) op.description = s.description;
  if (s.tags) op.tags = s.tags;
  op.security = s.security ? s.security.map((names) => Object.fromEntries(names.map((n) => [n, []]))) : [];
  const parameters = [
    ...objectParameters(s.params, 'path'),
    ...objectParameters(s.querystring, 'query'),
    ...objectParameters(s.headers, 'header'),
  ];
  if (parameters.length > 0) op.parameters = parameters;
  if (s.openapiRequestBody) {
    op.requestBody = s.openapiRequestBody;
  } else if (s.body) {
    const required = Array.isArray((s.body as { required?: unknown }).required) && ((s.body as { required: unknown[] }).required.length > 0);
    op.requestBody = { required, content: { 'application/json': { schema: s.body } } };
  }
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries((s.response ?? {}) as Record<string, unknown>)) {
    const code = status.toUpperCase();
    const description = (schema as { description?: string }).description ?? (code.startsWith('2') ? 'Success' : 'Error');
    responses[code] = status === '204'
      ? { description, headers: REQUEST_ID_HEADER }
      : { description, headers: REQUEST_ID_HEADER, content: { 'application/json': { schema } } };
  }
  Object.assign(responses, s.openapiResponses ?? {});
  if (acceptsCookieOrBearer(s.security)) {
    // The session token comes in the cookie or in Authorization: Bearer; both at once is refused (src/http/core.ts extractToken).
    op.description = [s.description, BOTH_CREDENTIALS_RULE].filter(Boolean).join('\n\n');
    responses['400'] ??= {
      description: 'invalid_request: among others, the session token was sent both in the cookie and in `Authorization: Bearer` (send one)',
      headers: REQUEST_ID_HEADER, content: { 'application/json': { schema: errorSchema } },
    };
  }
  op.responses = responses;
  return op;
}

const BOTH_CREDENTIALS_RULE = 'Send the session token in the session cookie **or** in `Authorization: Bearer`, not both: a request with both is 400 `invalid_request`.';

/** Whether the security alternatives let the session token come by cookie and by Bearer. */
function acceptsCookieOrBearer(security: string[][] | undefined): boolean {
  const single = new Set((security ?? []).filter((names) => names.length === 1).map((names) => names[0]));
  return single.has('sessionCookie') && single.has('bearer');
}

function objectParameters(schema: unknown, where: 'path' | 'query' | 'header'): Record<string, unknown>[] {
  if (!schema || typeof schema !== 'object') return [];
  const { properties = {}, required = [] } = schema as { properties?: Record<string, { description?: string }>; required?: string[] };
  return Object.entries(properties).map(([name, p]) => ({
    name, in: where, required: where === 'path' || required.includes(name),
    ...(p.description ? { description: p.description } : {}),
    schema: p,
  }));
}
