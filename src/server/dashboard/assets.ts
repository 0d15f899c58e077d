/**
 * The dashboard's static files. They live as real files in `client/` next to this module (linted
 * and type-checked for the browser with tsconfig.browser.json; copied into dist/ by the build) and
 * are read once, when the service starts. No CDN: the page loads only these.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const TYPES = {
  'app.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'login.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml; charset=utf-8',
} as const;

export type AssetName = keyof typeof TYPES;

/** One served file: its media type, its text and an ETag hashed from that text. */
export interface Asset {
  type: string;
  body: string;
  etag: string;
}

function asset(name: AssetName): Asset {
  // Missing files fail the start loudly (a build that forgot to copy them), not the first request.
  const file = new URL(`./client/${name}`, import.meta.url);
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`the dashboard asset ${file.pathname} cannot be read (${(err as Error).message}): `
      + 'a build must copy src/server/dashboard/client/ next to the compiled code (node scripts/ensure.mjs does)', { cause: err });
  }
  return { type: TYPES[name], body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * The files under `/dashboard/assets/`, by name, with their media type and an ETag.
 *
 * @example reply.type(ASSETS['app.js'].type).send(ASSETS['app.js'].body)
 */
export const ASSETS: Readonly<Record<AssetName, Asset>> = Object.freeze({
  'app.css': asset('app.css'),
  'app.js': asset('app.js'),
  'login.js': asset('login.js'),
  'favicon.svg': asset('favicon.svg'),
});
