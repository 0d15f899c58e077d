// Drives every operation of the service's own /openapi.json with inputs generated from its schemas
// (fast-check), valid and invalid, with the authentication the operation documents, and checks
// every answer against the document with ajv (openapi-check.ts): the status is documented for the
// operation and the body is valid against that status's schema. Issue 17 item 6.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { openApiChecker } from './openapi-check.js';

const ADMIN_KEY = 'openapi-conformance-admin-key-0123456789';
const RUNS = 20;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

type Schema = Record<string, unknown>;
interface Parameter { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }
interface Operation { operationId: string; security: Record<string, unknown>[]; parameters?: Parameter[]; requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> } }
type Doc = Parameters<typeof openApiChecker>[0] & { paths: Record<string, Record<string, Operation>>; components: { responses: Record<string, { content: Record<string, { schema: Schema }> }> } };

const ajv = new Ajv2020({ strict: false });
addFormats(ajv);
const validators = new Map<Schema, ReturnType<Ajv2020['compile']>>();
function valid(schema: Schema, value: unknown): boolean {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = ajv.compile(schema)));
  return v(value) === true;
}

/**
 * A fast-check arbitrary of values valid against a JSON schema: the keywords the service's
 * schemas use (type, enum, const, anyOf/oneOf, string pattern/minLength/maxLength/format
 * date-time, integer/number minimum/maximum, object required/optional properties, arrays). An
 * unsupported schema falls back to a constant, filtered by ajv like everything else.
 */
function arbitraryOf(schema: Schema): fc.Arbitrary<unknown> {
  return rawArbitrary(schema).filter((v) => valid(schema, v));
}

function rawArbitrary(schema: Schema): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (branches) {
    const { anyOf: _a, oneOf: _o, ...base } = schema;
    return fc.oneof(...branches.map((b) => rawArbitrary({ ...base, ...b })));
  }
  if (Array.isArray(schema.type)) return fc.oneof(...(schema.type as string[]).map((type) => rawArbitrary({ ...schema, type })));
  switch (schema.type) {
    case 'string': {
      const minLength = (schema.minLength as number | undefined) ?? 0;
      const maxLength = Math.min((schema.maxLength as number | undefined) ?? 40, minLength + 40);
      if (schema.format === 'ipv4') return fc.ipV4();
      if (schema.format === 'ipv6') return fc.ipV6();
      if (schema.format === 'date-time') return fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
      if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern as string)).filter((s) => s.length >= minLength && s.length <= ((schema.maxLength as number | undefined) ?? Infinity));
      return fc.string({ minLength, maxLength });
    }
    case 'integer': return fc.integer({ min: (schema.minimum as number | undefined) ?? -1000, max: (schema.maximum as number | undefined) ?? 1_000_000 });
    case 'number': return fc.double({ min: (schema.minimum as number | undefined) ?? -1000, max: (schema.maximum as number | undefined) ?? 1000, noNaN: true });
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    case 'array': {
      const items = (schema.items as Schema | undefined) ?? {};
      const minLength = (schema.minItems as number | undefined) ?? 0;
      return fc.array(rawArbitrary(items), { minLength, maxLength: Math.min((schema.maxItems as number | undefined) ?? 4, minLength + 4) });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      // A device's `ip` is documented in words (an IPv4 or IPv6 address as node:net isIP accepts it,
      // beyond what JSON Schema's formats say exactly), so valid inputs there are addresses.
      const model = Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, k === 'ip' && String(s.description ?? '').includes('isIP') ? fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(null)) : rawArbitrary(s)]));
      return fc.record(model, { requiredKeys: required.filter((k) => k in properties) });
    }
    default: return fc.constant('x');
  }
}

/** A value of the wrong kind for a schema: another type, out of range, too long, off the pattern or enum. */
function invalidOf(schema: Schema): fc.Arbitrary<unknown> {
  const candidates: fc.Arbitrary<unknown>[] = [fc.constantFrom<unknown>(12345, true, [], { unexpected: 1 }, null)];
  if (typeof schema.maxLength === 'number') candidates.push(fc.constant('y'.repeat((schema.maxLength as number) + 1)));
  if (typeof schema.maximum === 'number') candidates.push(fc.constant((schema.maximum as number) + 1));
  if (typeof schema.minimum === 'number') candidates.push(fc.constant((schema.minimum as number) - 1));
  candidates.push(fc.constantFrom('', '!not valid!', '0', '-1', 'yesterday', '%'));
  return fc.oneof(...candidates).filter((v) => !valid(schema, v));
}

/** What a generated request holds before it is authenticated and sent. */
interface Input { path: Record<string, string>; query: Record<string, string>; body: unknown; invalid: string | null }

function inputs(op: Operation): fc.Arbitrary<Input> {
  const params = op.parameters ?? [];
  const bodySchema = op.requestBody?.content['application/json']?.schema;
  const validParams = (where: 'path' | 'query') => fc.record(Object.fromEntries(params.filter((p) => p.in === where).map((p) => [p.name, arbitraryOf(p.schema).map(String)])),
    { requiredKeys: params.filter((p) => p.in === where && p.required).map((p) => p.name) }) as fc.Arbitrary<Record<string, string>>;
  const validInput = fc.record({
    path: validParams('path'), query: validParams('query'),
    body: bodySchema ? arbitraryOf(bodySchema) : fc.constant(undefined), invalid: fc.constant(null),
  });
  const mutations: fc.Arbitrary<Input>[] = [];
  for (const p of params) {
    // A query value always arrives as a string: only invalid strings can reach the service.
    mutations.push(fc.tuple(validInput, invalidOf(p.schema).filter((v) => typeof v === 'string' && (p.in !== 'path' || v !== '')))
      .map(([input, bad]) => ({ ...input, [p.in]: { ...input[p.in as 'path' | 'query'], [p.name]: bad as string }, invalid: `${p.in} ${p.name}` })));
  }
  if (bodySchema) {
    const properties = (bodySchema.properties ?? {}) as Record<string, Schema>;
    for (const name of (bodySchema.required ?? []) as string[]) {
      mutations.push(validInput.map((input) => {
        const body = { ...(input.body as Record<string, unknown>) };
        delete body[name];
        return { ...input, body, invalid: `body without ${name}` };
      }));
    }
    for (const [name, s] of Object.entries(properties)) {
      mutations.push(fc.tuple(validInput, invalidOf(s)).map(([input, bad]) => ({ ...input, body: { ...(input.body as Record<string, unknown>), [name]: bad }, invalid: `body ${name}` })));
    }
    mutations.push(validInput.map((input) => ({ ...input, body: ['not', 'an', 'object'], invalid: 'body of the wrong type' })));
  }
  return mutations.length === 0 ? validInput : fc.oneof({ arbitrary: validInput, weight: 2 }, ...mutations.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

describe('every operation of /openapi.json, driven from its schemas', () => {
  let app: ServiceApp;
  let base: string;
  let doc: Doc;
  let checker: ReturnType<typeof openApiChecker>;
  let ipCounter = 0;

  beforeAll(async () => {
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--trust-proxy', 'true',
      '--rate-limit', '1000000/1m', '--log-level', 'silent', '--sweep-interval', '0', '--key-rotation-interval', 'off'] });
    app = await buildServer(config, { store: memoryStore() });
    // A real port: the event stream answers its headers and then never ends, which only a socket can cut.
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    doc = await (await fetch(`${base}/openapi.json`)).json() as Doc;
    checker = openApiChecker(doc);
  });
  afterAll(async () => {
    await app.close();
  });

  /** Sends one request; a stream is cut once its headers are in. */
  async function send(method: string, url: string, headers: Record<string, string>, body?: string) {
    ipCounter += 1;
    const abort = new AbortController();
    const res = await fetch(`${base}${url}`, {
      method, signal: abort.signal, redirect: 'manual',
      headers: { 'x-forwarded-for': `10.9.${(ipCounter >> 8) & 255}.${ipCounter & 255}`, ...headers }, ...(body !== undefined ? { body } : {}),
    });
    const contentType = res.headers.get('content-type');
    let text = '';
    if (contentType?.startsWith('text/event-stream')) abort.abort();
    else text = await res.text();
    return { status: res.status, contentType, text, allow: res.headers.get('allow') };
  }

  /** The headers of one documented way to authenticate, with a fresh session where it needs one. */
  async function credentials(scheme: string | undefined): Promise<Record<string, string>> {
    const origin = base;
    const json = { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY };
    switch (scheme) {
      case undefined: return {};
      case 'apiKey': return { 'x-api-key': ADMIN_KEY };
      case 'bearer': case 'sessionCookie': case 'refreshCookie': {
        const jwt = scheme === 'refreshCookie';
        const res = await send('POST', '/v1/sessions', json, JSON.stringify({ userId: 'conformance', setCookie: jwt, ...(jwt ? { tokenType: 'jwt' } : {}) }));
        const created = JSON.parse(res.text) as { token?: string; refreshToken?: string; csrfToken: string };
        if (scheme === 'bearer') return { authorization: `Bearer ${created.token!}` };
        const cookie = jwt ? `sessionkit-refresh=${created.refreshToken!}` : `sessionkit=${created.token!}`;
        return { cookie, 'x-csrf-token': created.csrfToken, origin };
      }
      case 'dashboardCookie': {
        const login = await fetch(`${base}/dashboard/login`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY, origin } });
        const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0]!;
        return { cookie, 'x-csrf-token': ((await login.json()) as { csrfToken: string }).csrfToken, origin };
      }
      default: throw new Error(`no credentials for the security scheme ${scheme}`);
    }
  }

  it('documents a security scheme the test knows for every operation', () => {
    const known = new Set(['apiKey', 'bearer', 'sessionCookie', 'refreshCookie', 'dashboardCookie']);
    const schemes = Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((op) => op.security.flatMap((s) => Object.keys(s))));
    expect(schemes.filter((s) => !known.has(s))).toEqual([]);
  });

  it('answers every operation, with valid and invalid inputs, only as the document says', async () => {
    const operations = Object.entries(doc.paths).flatMap(([template, ops]) => Object.entries(ops).map(([method, op]) => ({ template, method: method.toUpperCase(), op })));
    expect(operations.length).toBeGreaterThan(20);
    for (const { template, method, op } of operations) {
      const alternatives = op.security.length === 0 ? [undefined] : op.security.map((s) => Object.keys(s)[0]);
      await fc.assert(fc.asyncProperty(inputs(op), fc.constantFrom(...alternatives), async (input, scheme) => {
        const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(input.path[name] ?? 'x'));
        const query = new URLSearchParams(input.query).toString();
        const url = query ? `${path}?${query}` : path;
        const headers = await credentials(scheme);
        if (input.body !== undefined) headers['content-type'] = 'application/json';
        const res = await send(method, url, headers, input.body === undefined ? undefined : JSON.stringify(input.body));
        const what = `${method} ${url} (${scheme ?? 'no credentials'}${input.invalid ? `, invalid ${input.invalid}` : ''}) -> ${res.status} ${res.text.slice(0, 300)}`;
        // The status is documented for the operation and the body valid against its schema.
        checker.check(method, url, res.status, res.contentType, res.text);
        expect(res.status, what).toBeLessThan(500);
        if (input.invalid) expect(res.status, what).toBeGreaterThanOrEqual(400);
        // A valid input is never refused as malformed: what the document allows, the service accepts.
        else expect(res.status === 400 ? (JSON.parse(res.text) as { error: string }).error : 'accepted', what).not.toBe('invalid_request');
      }), { numRuns: RUNS, seed: 20261204 });
    }
  }, 60_000);

  it('answers a method a documented path does not serve with the common 405 response and Allow', async () => {
    const schema = doc.components.responses.MethodNotAllowed!.content['application/json']!.schema;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace(/\{[^}]+\}/g, 'conformance-id');
      for (const method of METHODS) {
        const served = Object.entries(doc.paths).some(([t, o]) => method in o && new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
        if (method in ops || served) continue;
        const res = await send(method.toUpperCase(), path, {});
        const documentedMethods = Object.entries(doc.paths).filter(([t]) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path)).flatMap(([, o]) => Object.keys(o));
        expect({ route: `${method} ${path}`, status: res.status, valid: valid(schema, JSON.parse(res.text)) }).toEqual({ route: `${method} ${path}`, status: 405, valid: true });
        expect(res.allow?.split(', ').filter((m) => m !== 'HEAD').map((m) => m.toLowerCase()).sort()).toEqual([...new Set(documentedMethods)].sort());
      }
    }
  });
});
