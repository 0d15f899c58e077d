import { API_KEY_SCOPES, createApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from '../../server/api-keys.js';
import { jsonOption, requiredPositional, requiredString, type Command } from '../command.js';
import { EXIT_OK, failure, usageError } from '../errors.js';
import { escapeText, isoTime, jsonLine, table } from '../output.js';
import { withStore } from '../service.js';

/** The fields of an API key that may be shown: never its hash. */
function keyJson(k: ApiKeyInfo): Record<string, unknown> {
  return { id: k.id, name: k.name, scopes: [...k.scopes], createdAt: isoTime(k.createdAt), lastUsedAt: isoTime(k.lastUsedAt) };
}

const create: Command = {
  path: ['keys', 'create'],
  summary: 'create an API key for a backend; the key is printed once',
  usage: 'keys create --name <name> [--scope sessions|admin ...] [--json] [config flags]',
  options: {
    name: { type: 'string', valueName: '<name>', description: 'a name to recognise the key by, e.g. the calling app (required)' },
    scope: { type: 'string', multiple: true, valueName: '<scope>', description: "'sessions' (the session routes; the default) or 'admin' (everything); repeatable" },
    ...jsonOption,
  },
  usesConfig: true,
  details: [
    'The key itself is shown only now: the store keeps its hash. Store it in the calling app\'s',
    'secret store and send it as the X-API-Key header.',
    'Example: sessionkit keys create --name shop --scope sessions',
  ].join('\n'),
  async run(args, { io, env }) {
    const name = requiredString(args, 'name', 'keys create');
    const scopes = (args.values.scope as string[] | undefined) ?? ['sessions'];
    for (const scope of scopes) {
      if (!(API_KEY_SCOPES as readonly string[]).includes(scope)) throw usageError(`keys create: --scope: expected sessions or admin, got ${escapeText(scope.slice(0, 40))}`);
    }
    const created = await withStore(args.configArgv, env, (store) => createApiKey(store, { name, scopes: [...new Set(scopes)] }));
    if (args.values.json) {
      io.stdout(jsonLine({ ...keyJson(created), key: created.key }));
    } else {
      io.stdout(`created API key ${escapeText(created.id)} (name ${escapeText(created.name)}, scopes ${created.scopes.join(',')})\n`);
      io.stdout(`key: ${created.key}\n`);
      io.stdout('This is the only time the key is shown: store it now.\n');
    }
    return EXIT_OK;
  },
};

const list: Command = {
  path: ['keys', 'list'],
  summary: 'list the API keys (ids, names, scopes; never the keys)',
  usage: 'keys list [--json] [config flags]',
  options: { ...jsonOption },
  usesConfig: true,
  async run(args, { io, env }) {
    const keys = await withStore(args.configArgv, env, (store) => listApiKeys(store));
    if (args.values.json) {
      io.stdout(jsonLine({ keys: keys.map(keyJson) }));
    } else if (keys.length === 0) {
      io.stdout('no API keys\n');
    } else {
      io.stdout(table(['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED'],
        keys.map((k) => [k.id, k.name, k.scopes.join(','), isoTime(k.createdAt), isoTime(k.lastUsedAt) ?? 'never'])));
    }
    return EXIT_OK;
  },
};

const revoke: Command = {
  path: ['keys', 'revoke'],
  summary: 'revoke an API key by id; requests with it fail from then on',
  usage: 'keys revoke <keyId> [--json] [config flags]',
  options: { ...jsonOption },
  maxPositionals: 1,
  usesConfig: true,
  details: 'Exits 1 when no API key has that id.',
  async run(args, { io, env }) {
    const id = requiredPositional(args, 'keyId', 'keys revoke');
    const revoked = await withStore(args.configArgv, env, (store) => revokeApiKey(store, id));
    if (!revoked) throw failure(`keys revoke: no API key with id ${escapeText(id.slice(0, 80))}`);
    io.stdout(args.values.json ? jsonLine({ revoked: true, id }) : `revoked API key ${escapeText(id)}\n`);
    return EXIT_OK;
  },
};

export const keyCommands: Command[] = [create, list, revoke];
