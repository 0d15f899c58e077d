import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configFlags, loadConfig, openStore, OPTION_SPECS, parseStoreUrl } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      host: '127.0.0.1', port: 8080, store: 'sqlite:./data/sessionkit.db', idleTimeout: 1_800_000,
      absoluteTimeout: 28_800_000, adminKey: null, masterKey: null, insecureCookies: false, trustProxy: false,
      allowedOrigins: [], rateLimit: { max: 30, windowMs: 60_000 }, config: null,
    });
  });

  it('gives every option one variable and one flag, derived from its name', () => {
    const names = new Set(OPTION_SPECS.map((o) => o.name));
    expect(names.size).toBe(OPTION_SPECS.length);
    const idle = OPTION_SPECS.find((o) => o.name === 'idleTimeout');
    expect(idle).toMatchObject({ env: 'SESSIONKIT_IDLE_TIMEOUT', flag: 'idle-timeout' });
    expect(configFlags()['insecure-cookies']).toEqual({ type: 'boolean' });
    expect(configFlags()['port']).toEqual({ type: 'string' });
  });

  it('reads the file, then variables over it, then flags over both', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 9000, idleTimeout: '5m', host: '0.0.0.0', insecureCookies: true }));
    const c = loadConfig({
      env: { SESSIONKIT_CONFIG: file, SESSIONKIT_IDLE_TIMEOUT: '7m', SESSIONKIT_PORT: '9001' },
      argv: ['--port', '9002', '--trust-proxy=2', '--allowed-origins', 'https://a.example,http://localhost:3000'],
    });
    expect(c).toMatchObject({ port: 9002, idleTimeout: 420_000, host: '0.0.0.0', insecureCookies: true, trustProxy: 2, config: file });
    expect(c.allowedOrigins).toEqual(['https://a.example', 'http://localhost:3000']);
    expect(loadConfig({ env: {}, file }).port).toBe(9000);
    expect(loadConfig({ env: {}, argv: ['--config', file] }).port).toBe(9000);
  });

  it('parses booleans, the rate limit and trustProxy', () => {
    expect(loadConfig({ env: { SESSIONKIT_INSECURE_COOKIES: 'true' } }).insecureCookies).toBe(true);
    expect(loadConfig({ env: {}, argv: ['--insecure-cookies'] }).insecureCookies).toBe(true);
    expect(loadConfig({ env: {}, argv: ['--insecure-cookies=false'] }).insecureCookies).toBe(false);
    expect(loadConfig({ env: { SESSIONKIT_RATE_LIMIT: '5/10s' } }).rateLimit).toEqual({ max: 5, windowMs: 10_000 });
    expect(loadConfig({ env: { SESSIONKIT_TRUST_PROXY: 'true' } }).trustProxy).toBe(true);
    expect(loadConfig({ env: { SESSIONKIT_TRUST_PROXY: '0' } }).trustProxy).toBe(false);
  });

  it('stops at a bad option with one line naming it and its source', () => {
    const e = configError(() => loadConfig({ env: { SESSIONKIT_PORT: 'eighty' } }));
    expect(e.message).toBe('invalid option port (SESSIONKIT_PORT): expected an integer from 0 to 65535, got "eighty"');
    expect(e.option).toBe('port');
    expect(configError(() => loadConfig({ env: {}, argv: ['--idle-timeout', 'soon'] })).message).toMatch(/^invalid option idleTimeout \(--idle-timeout\): expected a duration/);
    expect(configError(() => loadConfig({ env: { SESSIONKIT_RATE_LIMIT: 'lots' } })).option).toBe('rateLimit');
    expect(configError(() => loadConfig({ env: { SESSIONKIT_ALLOWED_ORIGINS: 'https://a.example/path' } })).option).toBe('allowedOrigins');
    expect(configError(() => loadConfig({ env: {}, argv: ['--nope'] })).message).toBe('unknown option --nope');
    expect(configError(() => loadConfig({ env: {}, argv: ['--port'] })).message).toBe('option --port needs a value');
    expect(configError(() => loadConfig({ env: { SESSIONKIT_LOG_LEVEL: 'loud\nx' } })).message).not.toContain('\n');
  });

  it('never echoes a secret in the error', () => {
    const e = configError(() => loadConfig({ env: { SESSIONKIT_MASTER_KEY: 'short-secret-value' } }));
    expect(e.message).toBe('invalid option masterKey (SESSIONKIT_MASTER_KEY): expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
    expect(e.message).not.toContain('short-secret-value');
  });

  it('refuses unknown keys, bad JSON and missing files', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"port": 1, "colour": "red"}');
    expect(configError(() => loadConfig({ env: {}, file: bad })).message).toBe(`unknown option "colour" in ${bad}`);
    writeFileSync(bad, '{port');
    expect(configError(() => loadConfig({ env: {}, file: bad })).option).toBe('config');
    expect(configError(() => loadConfig({ env: {}, file: join(dir, 'missing.json') })).message).toMatch(/cannot read .*ENOENT/);
    writeFileSync(bad, '{"port": "x"}');
    expect(configError(() => loadConfig({ env: {}, file: bad })).message).toBe(`invalid option port (in ${bad}): expected an integer from 0 to 65535, got "x"`);
  });

  it('reports unknown SESSIONKIT_ variables as warnings', () => {
    expect(loadConfig({ env: { SESSIONKIT_PROT: '1' } }).warnings).toEqual(['ignored variable SESSIONKIT_PROT: no such option']);
  });

  it('warns when a secret arrives as a flag, never repeating the secret, and not when it comes from a variable', () => {
    const key = 'a'.repeat(64);
    const flagged = loadConfig({ env: {}, argv: ['--master-key', key, '--secret', 'b'.repeat(43), '--port', '0'] });
    expect(flagged.warnings).toHaveLength(2);
    expect(flagged.warnings[0]).toMatch(/^--master-key puts a secret on the command line.*use SESSIONKIT_MASTER_KEY or a JSON config file/);
    expect(flagged.warnings[1]).toMatch(/^--secret puts a secret on the command line.*SESSIONKIT_SECRET/);
    expect(flagged.warnings.join('\n')).not.toContain(key);
    expect(loadConfig({ env: { SESSIONKIT_MASTER_KEY: key }, argv: ['--port', '0'] }).warnings).toEqual([]);
    expect(loadConfig({ env: {}, argv: [`--admin-key=${'c'.repeat(40)}`] }).warnings[0]).toMatch(/^--admin-key puts a secret/);
  });
});

describe('openStore', () => {
  it('parses every store scheme and refuses unknown ones', () => {
    expect(parseStoreUrl('memory:')).toEqual({ kind: 'memory' });
    expect(parseStoreUrl('sqlite:./data/x.db')).toEqual({ kind: 'sqlite', path: './data/x.db' });
    expect(parseStoreUrl('redis+cluster://a:1,b:2').kind).toBe('redis');
    expect(parseStoreUrl('redis+sentinel://a:1/mymaster').kind).toBe('redis');
    expect(parseStoreUrl('postgresql://u@h/db').kind).toBe('postgres');
    expect(parseStoreUrl('memcached://h:1,h:2').kind).toBe('memcached');
    expect(configError(() => parseStoreUrl('mongodb://x')).message).toMatch(/^invalid option store: unknown store scheme mongodb:/);
  });

  it('refuses a Memcached store without a durable audit store', async () => {
    await expect(openStore(loadConfig({ env: { SESSIONKIT_STORE: 'memcached://127.0.0.1:11211' } }))).rejects.toThrow(/^invalid option auditStore: the memcached store needs a durable store/);
    await expect(openStore(loadConfig({ env: { SESSIONKIT_STORE: 'memcached://127.0.0.1:11211', SESSIONKIT_AUDIT_STORE: 'memory:' } }))).rejects.toThrow(/invalid option auditStore/);
  });

  it('opens the memory store', async () => {
    const store = await openStore(loadConfig({ env: { SESSIONKIT_STORE: 'memory:' } }));
    await store.ping();
    expect(store.name).toBe('memory');
    await store.close();
  });

});

describe('rolePolicies option', () => {
  it('parses per-role timeouts and re-authentication rules from a variable and applies them', async () => {
    const { loadConfig, createManagerFromConfig } = await import('../../src/config/index.js');
    const { memoryStore } = await import('../../src/stores/memory.js');
    const config = loadConfig({ argv: [], env: { SESSIONKIT_STORE: 'memory:', SESSIONKIT_ROLE_POLICIES: '{"admin":{"idleTimeout":"10m","absoluteTimeout":"1h","reauthMaxAge":"12h","reauthMethods":["totp"]}}' } });
    expect(config.rolePolicies).toEqual({ admin: { idleTimeout: 600_000, absoluteTimeout: 3_600_000, reauthMaxAge: 43_200_000, reauthMethods: ['totp'] } });
    const sessions = createManagerFromConfig(config, memoryStore());
    const { session } = await sessions.create({ userId: 'a', roles: ['admin'], authMethods: ['password'] });
    expect(session).toMatchObject({ idleTimeout: 600_000, absoluteTimeout: 3_600_000, policy: 'admin' });
    await sessions.close();
  });

  it('refuses a malformed policy with one line naming the option', async () => {
    const { loadConfig } = await import('../../src/config/index.js');
    for (const bad of ['{not json', '[]', '{"admin":{"idleTimeout":"soon"}}', '{"admin":{"colour":"red"}}', '{"admin":{"reauthMethods":[]}}']) {
      expect(() => loadConfig({ argv: [], env: { SESSIONKIT_ROLE_POLICIES: bad } })).toThrow(/rolePolicies/);
    }
  });
});
