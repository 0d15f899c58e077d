import { CSRF_FIELD } from './core.js';

/**
 * Finding the `_csrf` field of a form body, for plain HTML forms that cannot send the
 * `X-CSRF-Token` header. Pure functions over the bytes read so far: the callers (form-body.ts)
 * read a bounded prefix of the body and give it back to the application untouched.
 */

/** How much of a form body is read to find `_csrf`: a field beyond it is not looked for. */
export const FORM_PEEK_LIMIT = 64 * 1024;

/** The two body encodings a browser form submits. */
export type FormKind = { type: 'urlencoded' } | { type: 'multipart'; boundary: string };

const MAX_TOKEN_LENGTH = 512;
const BOUNDARY_PARAM = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^";\s]{1,70}))/i;
const NAME_PARAM = /(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^";\s]*))/i;

/**
 * The form encoding of a `Content-Type`, or null when the body is not a form (JSON, text, none).
 *
 * @example formKind('multipart/form-data; boundary=x') // { type: 'multipart', boundary: 'x' }
 */
export function formKind(contentType: string | undefined): FormKind | null {
  if (contentType === undefined) return null;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'application/x-www-form-urlencoded') return { type: 'urlencoded' };
  if (media !== 'multipart/form-data') return null;
  const match = BOUNDARY_PARAM.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  return boundary ? { type: 'multipart', boundary } : null;
}

/**
 * The `_csrf` value in the bytes of a form body read so far: the token, null when the body has
 * none (or `complete` is false and the field cannot appear any more), undefined when more bytes
 * are needed to tell. The first `_csrf` field wins.
 *
 * @example findFormToken(Buffer.from('_csrf=abc&x=1'), { type: 'urlencoded' }, true) // 'abc'
 */
export function findFormToken(bytes: Buffer, kind: FormKind, complete: boolean): string | null | undefined {
  return kind.type === 'urlencoded' ? findInUrlencoded(bytes, complete) : findInMultipart(bytes, kind.boundary, complete);
}

function decodeComponent(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function usable(value: string | null): string | null {
  return value !== null && value.length > 0 && value.length <= MAX_TOKEN_LENGTH ? value : null;
}

function findInUrlencoded(bytes: Buffer, complete: boolean): string | null | undefined {
  const pairs = bytes.toString('latin1').split('&');
  // Without the end of the body the last pair may be cut short: it is read once it is whole.
  if (!complete) pairs.pop();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    if (name !== CSRF_FIELD) continue;
    return usable(eq === -1 ? null : decodeComponent(pair.slice(eq + 1)));
  }
  return complete ? null : undefined;
}

function findInMultipart(bytes: Buffer, boundary: string, complete: boolean): string | null | undefined {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const next = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let at = bytes.indexOf(delimiter);
  while (at !== -1) {
    const afterDelimiter = at + delimiter.length;
    if (bytes.length < afterDelimiter + 2) break;
    if (bytes[afterDelimiter] === 0x2d && bytes[afterDelimiter + 1] === 0x2d) return null; // the closing delimiter
    const headersEnd = bytes.indexOf('\r\n\r\n', afterDelimiter, 'latin1');
    if (headersEnd === -1) break;
    const valueStart = headersEnd + 4;
    const valueEnd = bytes.indexOf(next, valueStart);
    if (partName(bytes.toString('latin1', afterDelimiter, headersEnd)) === CSRF_FIELD) {
      if (valueEnd === -1) break;
      return usable(bytes.toString('utf8', valueStart, valueEnd));
    }
    if (valueEnd === -1) break;
    at = valueEnd + 2;
  }
  return complete ? null : undefined;
}

/** The `name` of a part's `Content-Disposition: form-data` header (not its `filename`). */
function partName(headerBlock: string): string | null {
  for (const line of headerBlock.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const params = line.slice(colon + 1);
    const semicolon = params.indexOf(';');
    if (semicolon === -1) return null;
    const match = NAME_PARAM.exec(params.slice(semicolon));
    return match ? (match[1] ?? match[2] ?? null) : null;
  }
  return null;
}

/**
 * The `_csrf` field of a body the framework already parsed: an object (Express's `urlencoded()`,
 * multer, `@fastify/formbody`, `@fastify/multipart` with `attachFieldsToBody`) or a urlencoded
 * string. Undefined when there is none or it is ambiguous (the field sent twice).
 *
 * @example tokenOfParsedBody({ _csrf: 'abc', note: 'hi' }) // 'abc'
 */
export function tokenOfParsedBody(body: unknown): string | undefined {
  if (typeof body === 'string') return findInUrlencoded(Buffer.from(body, 'latin1'), true) ?? undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) return undefined;
  if (!Object.prototype.hasOwnProperty.call(body, CSRF_FIELD)) return undefined;
  const field: unknown = (body as Record<string, unknown>)[CSRF_FIELD];
  if (typeof field === 'string') return usable(field) ?? undefined;
  // @fastify/multipart's attachFieldsToBody: { value, fieldname, ... }
  if (typeof field === 'object' && field !== null && typeof (field as { value?: unknown }).value === 'string') {
    return usable((field as { value: string }).value) ?? undefined;
  }
  return undefined;
}
