import { once } from 'node:events';
import { OPTION_SPECS } from '../../config/index.js';
import type { Command } from '../command.js';
import { EXIT_OK } from '../errors.js';
import { redactStoreUrl } from '../redact.js';
import { readConfig } from '../service.js';

/** The configuration table of `sessionkit serve --help`: flag, variable, default, meaning. */
function configHelp(): string {
  const rows = OPTION_SPECS.map((o) => [`--${o.flag}${o.type === 'string' ? ' <value>' : ''}`, o.env, o.defaultText ?? '-', o.description]);
  const w0 = Math.max(...rows.map((r) => (r[0] as string).length));
  const w1 = Math.max(...rows.map((r) => (r[1] as string).length));
  return rows.map(([flag, env, def, description]) => `  ${(flag as string).padEnd(w0)}  ${(env as string).padEnd(w1)}  ${description} (default ${def})`).join('\n');
}

const serve: Command = {
  path: ['serve'],
  summary: 'start the session service (the HTTP API, health, metrics, dashboard)',
  usage: 'serve [config flags]',
  options: {},
  usesConfig: true,
  get details(): string {
    return [
      'Configuration flags, their environment variables, and defaults (flags override variables,',
      'which override the JSON file named by --config or SESSIONKIT_CONFIG):',
      configHelp(),
      '',
      'On a fresh store without --admin-key, an admin API key is generated and printed once.',
      'SIGTERM or SIGINT (Ctrl-C) finishes in-flight requests, closes the store and exits 0.',
      'A bad option stops start-up with one line naming it (exit 2).',
      'Example: SESSIONKIT_MASTER_KEY="$KEY" sessionkit serve --port 8081 --store redis://127.0.0.1:6379',
      'Secrets (master key, admin key, secret, OIDC client secret) belong in variables or the JSON file:',
      'as flags they show in ps and shell history, and serve warns.',
    ].join('\n');
  },
  async run(args, { io, env, signal }) {
    const config = readConfig(args.configArgv, env);
    for (const warning of config.warnings) io.stderr(`sessionkit: warning: ${warning}\n`);
    if (config.insecureCookies) io.stderr('sessionkit: warning: insecureCookies is on: cookies are sent over plain HTTP (local development only)\n');
    // Loaded here, not at the top: the other commands never need the HTTP stack.
    const { startServer } = await import('../../server/index.js');
    const server = await startServer(config);
    io.stdout(`sessionkit listening on ${server.url}\n`);
    io.stdout(`store: ${redactStoreUrl(config.store)}\n`);
    io.stdout(`dashboard: ${server.url}/dashboard\n`);
    if (server.adminKey) {
      io.stdout(`admin API key (shown once, store it now): ${server.adminKey}\n`);
    } else if (config.adminKey === null) {
      io.stdout('admin API key: created at the first start and shown only then; to make another, run `sessionkit keys create --name admin --scope admin` with the same store\n');
    }
    if (!signal.aborted) await once(signal, 'abort');
    io.stdout('sessionkit: shutting down\n');
    await server.close();
    return EXIT_OK;
  },
};

export const serveCommands: Command[] = [serve];
