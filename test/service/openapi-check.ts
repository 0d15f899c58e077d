// Validates the responses a test receives against the service's own /openapi.json: the route
// must be documented, the status must be documented (exactly, as NXX, or as default), and a JSON
// body must match the documented schema.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

export function openApiChecker(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const compiled = new Map<object, ReturnType<Ajv2020['compile']>>();
  // Static paths first, as the router does: /v1/sessions/refresh is not /v1/sessions/{id}.
  const templates = Object.keys(doc.paths).map((template) => ({
    template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`), params: (template.match(/\{/g) ?? []).length,
  })).sort((a, b) => a.params - b.params);
  const seen = new Set<string>();

  function operationFor(method: string, path: string) {
    const match = templates.find((t) => t.pattern.test(path) && doc.paths[t.template]![method.toLowerCase()] !== undefined)
      ?? templates.find((t) => t.pattern.test(path));
    expect(match, `route ${method} ${path} is documented in /openapi.json`).toBeDefined();
    const op = doc.paths[match!.template]![method.toLowerCase()];
    expect(op, `method ${method} ${match!.template} is documented`).toBeDefined();
    return { template: match!.template, op: op! };
  }

  /** Checks one response; returns the parsed JSON body (or the text). */
  function check(method: string, url: string, status: number, contentType: string | null, text: string): unknown {
    const path = new URL(url, 'http://x').pathname;
    const { template, op } = operationFor(method, path);
    seen.add(`${method.toUpperCase()} ${template}`);
    const response = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
    expect(response, `status ${status} of ${method} ${template} is documented`).toBeDefined();
    if (status === 204 || text === '') return undefined;
    const media = (contentType ?? '').split(';')[0]!.trim();
    const content = response!.content?.[media];
    expect(content, `${media} response of ${method} ${template} (${status}) is documented`).toBeDefined();
    if (media !== 'application/json') return text;
    const body = JSON.parse(text) as unknown;
    let validate = compiled.get(content!.schema);
    if (!validate) compiled.set(content!.schema, (validate = ajv.compile(content!.schema)));
    const ok = validate(body);
    expect(ok ? null : { route: `${method} ${template} ${status}`, errors: validate.errors, body }).toBeNull();
    return body;
  }

  return { check, seen, routes: () => Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)) };
}
