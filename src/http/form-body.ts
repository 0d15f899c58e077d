import type { IncomingMessage } from 'node:http';
import { findFormToken, FORM_PEEK_LIMIT, formKind, tokenOfParsedBody, type FormKind } from './form-token.js';

/**
 * Reads the `_csrf` field of a form request for the CSRF check without taking the body away from
 * the application: a body the framework already parsed is read as it is; otherwise at most
 * `FORM_PEEK_LIMIT` bytes are read and pushed back (Node streams) or read from a clone (Web
 * requests), so the app's own body parser still sees every byte.
 */

/**
 * The `_csrf` token of a Node request (Express, Fastify): from `parsedBody` when the app's parser
 * ran first, else from the first `FORM_PEEK_LIMIT` bytes of a urlencoded or multipart body, which
 * are then put back in front of the stream with `unshift`. Undefined when there is none.
 *
 * @example const token = await nodeFormToken(req, req.body);
 */
export async function nodeFormToken(req: IncomingMessage, parsedBody: unknown): Promise<string | undefined> {
  const header = req.headers['content-type'];
  const kind = formKind(typeof header === 'string' ? header : undefined);
  // Only forms: a JSON client sends the header, and a JSON "_csrf" property is not a form field.
  if (kind === null) return undefined;
  if (parsedBody !== undefined && parsedBody !== null) return tokenOfParsedBody(parsedBody);
  return peekNodeStream(req, kind);
}

/** Searches the first `FORM_PEEK_LIMIT` bytes only, however large the chunks that brought them. */
function searchPrefix(chunks: Buffer[], size: number, kind: FormKind, whole: boolean): string | null | undefined {
  const bytes = Buffer.concat(chunks, size);
  if (size <= FORM_PEEK_LIMIT) return findFormToken(bytes, kind, whole);
  return findFormToken(bytes.subarray(0, FORM_PEEK_LIMIT), kind, false) ?? null;
}

function peekNodeStream(req: IncomingMessage, kind: FormKind): Promise<string | undefined> {
  // Someone already read the body (or it never came): nothing to look at, nothing to give back.
  if (req.readableEnded || req.destroyed || !req.readable) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const finish = (token: string | null | undefined): void => {
      stop();
      // Back in front of the stream, before 'end' can be emitted (Readable#unshift), for the app's parser.
      if (size > 0) req.unshift(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      resolve(token ?? undefined);
    };
    function onReadable(): void {
      let chunk: Buffer | string | null;
      while (size < FORM_PEEK_LIMIT && (chunk = req.read() as Buffer | string | null) !== null) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        chunks.push(bytes);
        size += bytes.length;
      }
      // `complete`: the parser has seen the whole message, and everything buffered has been read.
      const whole = req.complete && req.readableLength === 0;
      const found = searchPrefix(chunks, size, kind, whole);
      if (found !== undefined || whole || size >= FORM_PEEK_LIMIT) finish(found ?? null);
    }
    function onEnd(): void {
      // Only when nothing was read: the body was empty.
      stop();
      resolve(undefined);
    }
    function onGone(): void {
      stop();
      resolve(undefined);
    }
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/**
 * The `_csrf` token of a Web `Request` (Hono): the first `FORM_PEEK_LIMIT` bytes of a clone of a
 * urlencoded or multipart body, so the original stays unread for the app (`c.req.parseBody()`).
 * Undefined when there is none or the body was already used.
 *
 * @example const token = await webFormToken(c.req.raw);
 */
export async function webFormToken(request: Request): Promise<string | undefined> {
  const kind = formKind(request.headers.get('content-type') ?? undefined);
  if (kind === null || request.body === null || request.bodyUsed) return undefined;
  const reader = request.clone().body!.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (!done) {
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        size += value.byteLength;
      }
      const found = searchPrefix(chunks, size, kind, done);
      if (found !== undefined || done || size >= FORM_PEEK_LIMIT) return found ?? undefined;
    }
  } catch {
    return undefined;
  } finally {
    // Only the clone's branch stops; the request's own body is still whole for the app.
    reader.cancel().catch(() => {});
  }
}
