import { SessionError } from '../core/errors.js';
import { oidcErrorResponse } from './errors.js';

/** Largest back-channel logout request body read (a Logout Token is a few KiB). */
export const MAX_FORM_BYTES = 64 * 1024;

function refuse(message: string): SessionError {
  return new SessionError('invalid_request', message);
}

/**
 * The `logout_token` of a Back-Channel Logout request (section 2.5): the body must be
 * `application/x-www-form-urlencoded` with exactly one non-empty `logout_token`. `body` is the raw
 * text, or an object a framework already parsed. Anything else is `invalid_request`.
 *
 * @example logoutTokenFromBody('application/x-www-form-urlencoded', 'logout_token=eyJ…') // 'eyJ…'
 */
export function logoutTokenFromBody(contentType: string | undefined, body: unknown): string {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (media !== 'application/x-www-form-urlencoded') throw refuse('the back-channel logout request must be application/x-www-form-urlencoded');
  let values: unknown[];
  if (typeof body === 'string') {
    values = new URLSearchParams(body).getAll('logout_token');
  } else if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    const value = (body as Record<string, unknown>).logout_token;
    values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  } else {
    values = [];
  }
  if (values.length === 0) throw refuse('the logout_token parameter is missing');
  if (values.length > 1) throw refuse('the logout_token parameter must appear once');
  const token = values[0];
  if (typeof token !== 'string' || token.length === 0) throw refuse('the logout_token parameter is empty');
  return token;
}

/**
 * Reads a Node request body as text, refusing more than `MAX_FORM_BYTES` (`invalid_request`).
 *
 * @example const text = await readText(req)
 */
export async function readText(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_FORM_BYTES) throw refuse(`the back-channel logout request body is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The response to a Back-Channel Logout request (section 2.8): 200 `{ revoked }`, or 400 with the
 * OAuth error fields (`error`, `error_description`) and sessionkit's `message`; `Cache-Control:
 * no-store` either way. A store or provider outage keeps its own status (503, 502).
 *
 * @example const { status, headers, body } = backchannelResponse(await oidc.backchannelLogout(token).catch((e) => e))
 */
export function backchannelResponse(outcome: { revoked: number } | unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };
  if (outcome instanceof SessionError && outcome.code === 'invalid_request') {
    return { status: 400, headers, body: { error: 'invalid_request', error_description: outcome.message, message: outcome.message } };
  }
  if (outcome !== null && typeof outcome === 'object' && !(outcome instanceof Error) && typeof (outcome as { revoked?: unknown }).revoked === 'number') {
    return { status: 200, headers, body: { revoked: (outcome as { revoked: number }).revoked } };
  }
  const { status, headers: errorHeaders, body } = oidcErrorResponse(outcome);
  return { status, headers: errorHeaders, body: { ...body } };
}
