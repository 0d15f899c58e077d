/**
 * Every SQL statement of the SQLite store's session and record paths, in one place, so a test
 * can `EXPLAIN QUERY PLAN` each of them and prove that none scans a table.
 */
export const SESSION_SQL = {
  get: 'SELECT * FROM sessions WHERE id = ?',
  insert: `INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason, version, body)
    VALUES (@id, @user_id, @created_at, @last_seen_at, @idle_expires_at, @absolute_expires_at, @revoked_at, @revoke_reason, @version, @body)`,
  /** Compare-and-swap on version; a revoked record is never brought back. */
  replace: `UPDATE sessions SET user_id = @user_id, created_at = @created_at, last_seen_at = @last_seen_at,
    idle_expires_at = @idle_expires_at, absolute_expires_at = @absolute_expires_at, revoked_at = @revoked_at, revoke_reason = @revoke_reason,
    version = @version, body = @body WHERE id = @id AND version = @expected AND revoked_at IS NULL`,
  /** Only forward: a late, slower touch never moves lastSeenAt back. */
  touch: 'UPDATE sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ? AND revoked_at IS NULL AND last_seen_at < ?',
  revoke: 'UPDATE sessions SET revoked_at = ?, revoke_reason = ?, version = version + 1 WHERE id = ? AND revoked_at IS NULL',
  live: `SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL
    AND idle_expires_at > ? AND absolute_expires_at > ? ORDER BY created_at, id`,
  unrevoked: 'SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id',
  /** A bounded batch through the retention index, deleted and returned in one statement. */
  sweep: `DELETE FROM sessions WHERE id IN
    (SELECT id FROM sessions WHERE retain_until <= ? ORDER BY retain_until LIMIT ?) RETURNING *`,
} as const;

export const RECORD_SQL = {
  get: 'SELECT value FROM records WHERE kind = ? AND id = ?',
  put: 'INSERT INTO records (kind, id, value) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value',
  add: 'INSERT INTO records (kind, id, value) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO NOTHING',
  list: 'SELECT value FROM records WHERE kind = ? ORDER BY rowid',
  delete: 'DELETE FROM records WHERE kind = ? AND id = ?',
} as const;
