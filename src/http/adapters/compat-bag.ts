import { SessionError } from '../../core/errors.js';

/** What a compat bag asks of the request it belongs to (src/http/adapters/express-compat.ts). */
export interface CompatControl {
  run(kind: 'save' | 'regenerate' | 'destroy' | 'reload', cb?: (err?: unknown) => void): void;
  id(): string;
  cookie(): CompatCookie;
}

/** `req.session.cookie` in compat mode: express-session's fields, read-only. */
export interface CompatCookie {
  /** Milliseconds the session cookie has left (never beyond the session's absolute lifetime). */
  maxAge: number;
  /** The session's absolute lifetime in milliseconds, what the cookie started with. */
  readonly originalMaxAge: number;
  expires: Date;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly path: string;
  readonly sameSite: string;
}

/** Keys the bag keeps for its methods and accessors: never data (as in express-session). */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['regenerate', 'destroy', 'save', 'reload', 'touch', 'resetMaxAge', 'id', 'cookie']);

const CONTROL = Symbol('sessionkit.compat');

function defineData(target: object, key: string, value: unknown): void {
  // defineProperty, not assignment: a "__proto__" data key must stay data, never become the prototype.
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The express-session-shaped `req.session`: data as own enumerable properties, the methods on the
 * prototype (so `for…in`, `Object.keys` and `JSON.stringify` see only data, as passport's
 * `keepSessionInfo` merge expects).
 */
export class CompatBag {
  declare private readonly [CONTROL]: CompatControl;

  constructor(control: CompatControl, data: Record<string, unknown>) {
    Object.defineProperty(this, CONTROL, { value: control });
    for (const key of Object.keys(data)) if (!RESERVED_KEYS.has(key)) defineData(this, key, data[key]);
  }

  regenerate(cb?: (err?: unknown) => void): this {
    this[CONTROL].run('regenerate', cb);
    return this;
  }

  destroy(cb?: (err?: unknown) => void): this {
    this[CONTROL].run('destroy', cb);
    return this;
  }

  save(cb?: (err?: unknown) => void): this {
    this[CONTROL].run('save', cb);
    return this;
  }

  reload(cb?: (err?: unknown) => void): this {
    this[CONTROL].run('reload', cb);
    return this;
  }

  touch(): this {
    return this;
  }

  resetMaxAge(): this {
    return this;
  }

  get id(): string {
    return this[CONTROL].id();
  }

  get cookie(): CompatCookie {
    return this[CONTROL].cookie();
  }
}

/**
 * The data of a bag, as a plain object (own enumerable keys only, reserved names left out).
 *
 * @example JSON.stringify(dataOf(req.session)) // '{"cart":["apple"]}'
 */
export function dataOf(bag: object): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(bag)) if (!RESERVED_KEYS.has(key)) defineData(data, key, (bag as Record<string, unknown>)[key]);
  return data;
}

function lifetimeIsFixed(field: string): SessionError {
  return new SessionError('invalid_request', `req.session.cookie.${field} cannot be set in sessionkit: the cookie lives as long as the session (idleTimeout, absoluteTimeout and role policies of the session manager)`);
}

/** A snapshot of the cookie's lifetime; setting `maxAge` or `expires` is a clear error, not ignored. */
export class CompatCookieView implements CompatCookie {
  readonly httpOnly = true;
  readonly path = '/';
  readonly sameSite = 'lax';

  constructor(private readonly left: number, readonly originalMaxAge: number, private readonly at: number, readonly secure: boolean) {}

  get maxAge(): number {
    return this.left;
  }

  set maxAge(_value: number) {
    throw lifetimeIsFixed('maxAge');
  }

  get expires(): Date {
    return new Date(this.at + this.left);
  }

  set expires(_value: Date) {
    throw lifetimeIsFixed('expires');
  }

  toJSON(): Record<string, unknown> {
    return { originalMaxAge: this.originalMaxAge, expires: this.expires, secure: this.secure, httpOnly: this.httpOnly, path: this.path, sameSite: this.sameSite };
  }
}
