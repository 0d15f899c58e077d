// The example's user accounts: a small SQLite table, passwords hashed with scrypt (node:crypto).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';

const scryptAsync = promisify(scrypt);
const KEY_LENGTH = 64;
// N=2^15, r=8: about 32 MiB and tens of milliseconds per hash, the OWASP minimum for scrypt.
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** `scrypt$<salt>$<hash>`, both base64url. */
export async function hashPassword(password) {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password.normalize('NFKC'), salt, KEY_LENGTH, PARAMS);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password, stored) {
  const [scheme, salt, hash] = String(stored).split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, PARAMS);
  return timingSafeEqual(actual, expected);
}

/** Opens (and creates) the users table. */
export function openUsers(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL
  )`);
  const byName = db.prepare('SELECT id, username, password_hash, display_name FROM users WHERE username = ?');
  const byId = db.prepare('SELECT id, username, display_name FROM users WHERE id = ?');
  const insert = db.prepare('INSERT INTO users (id, username, password_hash, display_name) VALUES (?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash');
  // Unknown users still cost one scrypt, so response time does not reveal which usernames exist.
  let dummyHash = null;

  return {
    async upsert({ id, username, password, displayName }) {
      insert.run(id, username, await hashPassword(password), displayName);
    },
    /** The user whose password matches, or null. */
    async authenticate(username, password) {
      if (typeof username !== 'string' || typeof password !== 'string' || password.length > 1024) return null;
      const row = byName.get(username);
      if (!row) {
        dummyHash ??= await hashPassword('not-a-real-password');
        await verifyPassword(password, dummyHash);
        return null;
      }
      return (await verifyPassword(password, row.password_hash)) ? { id: row.id, username: row.username, displayName: row.display_name } : null;
    },
    get(id) {
      const row = byId.get(id);
      return row ? { id: row.id, username: row.username, displayName: row.display_name } : null;
    },
    close() { db.close(); },
  };
}
