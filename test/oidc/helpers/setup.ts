// The service with single sign-on configured against the in-process provider, on loopback ports.
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../../src/server/index.js';
import { freePort, startProvider, type TestAccount, type TestProvider } from './provider.js';

export const ADMIN_KEY = 'oidc-tests-admin-key-0123456789abcdef';
export const CLIENT_SECRET = 'oidc-tests-client-secret-0123456789';

export const ACCOUNTS: Record<string, TestAccount> = {
  alice: { password: 'alice-password', claims: { email: 'alice@example.org', groups: ['sso-admins', 'staff', 'unmapped'], realm_access: { roles: ['realm-admin', 'offline_access'] } } },
  bob: { password: 'bob-password', claims: { email: 'bob@example.org', groups: ['staff'] } },
};

/** A client registration at the provider for an app whose callback and back-channel routes live at `base`. */
export function clientFor(clientId: string, base: string, paths = { callback: '/auth/callback', backchannel: '/auth/backchannel-logout', logoutCallback: '/auth/logout/callback' }) {
  return {
    client_id: clientId, client_secret: CLIENT_SECRET, grant_types: ['authorization_code'], response_types: ['code'],
    redirect_uris: [`${base}${paths.callback}`], token_endpoint_auth_method: 'client_secret_basic',
    post_logout_redirect_uris: [`${base}${paths.logoutCallback}`],
    backchannel_logout_uri: `${base}${paths.backchannel}`, backchannel_logout_session_required: true,
  };
}

export interface SsoService {
  op: TestProvider;
  app: ServiceApp;
  url: string;
  close(): Promise<void>;
}

/** Starts the provider and the service (memory store, insecure cookies) configured for SSO. */
export async function startSsoService(): Promise<SsoService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const op = await startProvider({
    clients: [clientFor('sessionkit-service', url, { callback: '/v1/oidc/callback', backchannel: '/v1/backchannel-logout', logoutCallback: '/v1/oidc/logout/callback' })] as never,
    accounts: ACCOUNTS,
  });
  const config = loadConfig({
    env: {},
    argv: [
      '--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0',
      '--rate-limit', '1000/1m', '--oidc-issuer', op.issuer, '--oidc-client-id', 'sessionkit-service',
      '--oidc-client-secret', CLIENT_SECRET, '--oidc-redirect-uri', `${url}/v1/oidc/callback`, '--oidc-scope', 'openid email groups',
      '--oidc-roles-claim', 'groups', '--oidc-role-map', 'sso-admins=admin,staff=user',
      '--oidc-return-to', `${url}/v1/sessions/current,${url}/app/`, '--oidc-post-logout-redirect-uri', `${url}/v1/oidc/logout/callback`,
    ],
  });
  const app = await buildServer(config);
  await app.listen({ host: '127.0.0.1', port });
  if ((app.server.address() as AddressInfo).port !== port) throw new Error('port moved');
  return {
    op, app, url,
    async close() {
      await app.close();
      await op.close();
    },
  };
}
