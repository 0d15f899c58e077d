import type { SessionStore } from '../stores/types.js';
import { createApiKey, listApiKeys } from './api-keys.js';

/**
 * On the first start of a store that has no API key (and no `SESSIONKIT_ADMIN_KEY` configured),
 * creates an admin key and returns it so start-up can print it once. A marker record written
 * with `ifAbsent` makes this happen once per store, even when several instances start together.
 *
 * @example const adminKey = await bootstrapAdminKey(store); if (adminKey) print(adminKey)
 */
export async function bootstrapAdminKey(store: SessionStore, now: () => number = Date.now): Promise<string | null> {
  if ((await listApiKeys(store)).length > 0) return null;
  const first = await store.putRecord('settings', 'admin-key-bootstrapped', { at: now() }, { ifAbsent: true });
  if (!first) return null;
  const created = await createApiKey(store, { name: 'admin (generated at first start)', scopes: ['admin'] }, now);
  return created.key;
}
