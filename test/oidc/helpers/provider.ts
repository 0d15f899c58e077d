// panva's oidc-provider, run in process on 127.0.0.1 as the identity provider of the SSO tests.
// Its login page is our own (no external fonts or scripts, so Chromium never leaves loopback),
// consent is granted automatically for the registered clients, and it sends real back-channel
// logouts when a user signs out at its end_session endpoint.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider, { type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';

export interface TestAccount {
  password: string;
  claims: Record<string, unknown>;
}

export interface TestProvider {
  issuer: string;
  provider: Provider;
  /** Back-channel logouts the provider delivered (or failed to), in order. */
  backchannel: { ok: boolean; clientId: string; sub: string; sid: string; error?: string }[];
  /** Signs a token with one of the provider's published keys (`rs1` RS256, `ec1` ES256) or a foreign one. */
  sign(payload: JWTPayload, header?: { alg?: string; typ?: string | null; kid?: string }, key?: 'rs1' | 'ec1' | 'foreign'): Promise<string>;
  close(): Promise<void>;
}

export { freePort } from '../../helpers/ports.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
}

function loginPage(uid: string, error: string | null): string {
  return page('Sign-in', `<h1>Test provider sign-in</h1>${error ? `<p id="error">${escapeHtml(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escapeHtml(uid)}/login">
<input id="username" name="username" autocomplete="off"><input id="password" name="password" type="password">
<button id="sign-in" type="submit">Sign in</button></form>`);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

/**
 * Starts oidc-provider on a free loopback port with the given clients and accounts.
 *
 * @example const op = await startProvider({ clients: [{ client_id: 'app', ... }], accounts: { alice: { password: 'pw', claims: {} } } })
 */
export async function startProvider(options: { clients: ClientMetadata[]; accounts: Record<string, TestAccount> }): Promise<TestProvider> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const foreign = await generateKeyPair('RS256', { extractable: true });
  const jwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(key)), kid, alg, use: 'sig' });
  const keys = [await jwk(rsa.privateKey, 'rs1', 'RS256'), await jwk(ec.privateKey, 'ec1', 'ES256')];

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => { res.statusCode = 503; res.end(); };
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: options.clients,
    jwks: { keys },
    cookies: { keys: ['sessionkit-oidc-tests-cookie-key-0123456789'] },
    claims: { openid: ['sub'], email: ['email'], groups: ['groups'], roles: ['realm_access'] },
    // Scope claims go into the ID Token, which is where sessionkit reads roles from.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // The provider refuses to call special-use addresses (SSRF protection); the relying parties of
    // these tests live on 127.0.0.1, so its back-channel requests go out without that dispatcher.
    fetch: (url: string, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _dispatcher, ...rest } = init;
      return globalThis.fetch(url, rest);
    },
    // Explicit lifetimes (the provider otherwise prints a notice for each default).
    ttl: { Interaction: 600, Grant: 3600, Session: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = page('Sign out', `<h1>Sign out of the test provider?</h1>${form}<button id="logout-yes" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
        },
      },
    },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: KoaContextWithOIDC, id: string) => {
      const account = options.accounts[id];
      return account ? { accountId: id, claims: async () => ({ sub: id, ...account.claims }) } : undefined;
    },
    // Consent is implied for the test clients: a grant of what the client asked for.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope(String(ctx.oidc.params!.scope ?? 'openid'));
      await grant.save();
      return grant;
    },
  });
  const backchannel: TestProvider['backchannel'] = [];
  provider.on('backchannel.success', (_ctx: unknown, client: { clientId: string }, sub: string, sid: string) => backchannel.push({ ok: true, clientId: client.clientId, sub, sid }));
  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: { clientId: string }, sub: string, sid: string) => backchannel.push({ ok: false, clientId: client.clientId, sub, sid, error: String((err as Error).message) }));

  const callback = provider.callback();
  handler = (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
    if (!match) {
      callback(req, res);
      return;
    }
    (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
      if (req.method === 'POST' && match[2]) {
        const form = await readForm(req);
        const username = form.get('username') ?? '';
        const account = options.accounts[username];
        if (!account || account.password !== form.get('password')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, 'Wrong username or password'));
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(loginPage(details.uid, null));
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String((err as Error).message));
    });
  };

  const privateKeys = { rs1: rsa.privateKey, ec1: ec.privateKey, foreign: foreign.privateKey };
  return {
    issuer, provider, backchannel,
    async sign(payload, header = {}, key = 'rs1') {
      const alg = header.alg ?? (key === 'ec1' ? 'ES256' : 'RS256');
      const protectedHeader: Record<string, unknown> = { alg, kid: header.kid ?? (key === 'foreign' ? 'rs1' : key) };
      if (header.typ !== null) protectedHeader.typ = header.typ ?? 'logout+jwt';
      return new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(privateKeys[key]);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
