import { jsonOption, requiredPositional, type Command } from '../command.js';
import { EXIT_OK, failure } from '../errors.js';
import { escapeText, isoTime, jsonLine, table } from '../output.js';
import { withManager } from '../service.js';

const rotate: Command = {
  path: ['keys', 'rotate'],
  summary: 'rotate the JWT signing key: a new key, published at once and signing after keyPropagation; old ones verify until their tokens expire',
  usage: 'keys rotate [--json] [config flags]',
  options: { ...jsonOption },
  usesConfig: true,
  details: [
    'Every instance on the same store picks the new key up (the key ring lives in the store).',
    'The rotation is audited as keys.rotated. Give the same --master-key the service uses.',
  ].join('\n'),
  async run(args, { io, env }) {
    const { rotated, keys } = await withManager(args.configArgv, env, async (manager) => {
      const result = await manager.keys.rotate();
      return { rotated: result, keys: await manager.keys.list() };
    }, { signingKeys: true });
    const previous = keys.filter((k) => k.kid !== rotated.kid && (k.state === 'active' || k.state === 'verify-only')).map((k) => k.kid);
    if (args.values.json) {
      io.stdout(jsonLine({ kid: rotated.kid, activatesAt: rotated.activatesAt.toISOString(), verifyOnly: previous }));
    } else {
      io.stdout(`new signing key ${escapeText(rotated.kid)}, published now, signing from ${rotated.activatesAt.toISOString()}\n`);
      if (previous.length > 0) io.stdout(`still verifying (until their tokens expire): ${previous.map(escapeText).join(', ')}\n`);
    }
    return EXIT_OK;
  },
};

const signing: Command = {
  path: ['keys', 'signing'],
  summary: 'list the JWT signing keys with their states (never key material)',
  usage: 'keys signing [--json] [config flags]',
  options: { ...jsonOption },
  usesConfig: true,
  async run(args, { io, env }) {
    const keys = await withManager(args.configArgv, env, (manager) => manager.keys.list(), { signingKeys: true });
    if (args.values.json) {
      io.stdout(jsonLine({ keys: keys.map((k) => ({ ...k, createdAt: isoTime(k.createdAt), retiresAt: isoTime(k.retiresAt) })) }));
    } else if (keys.length === 0) {
      io.stdout('no signing keys yet (the first is made when the first JWT is issued, or by keys rotate)\n');
    } else {
      io.stdout(table(['KID', 'ALG', 'STATE', 'CREATED', 'RETIRES', 'ORIGIN'],
        keys.map((k) => [k.kid, k.alg, k.state, isoTime(k.createdAt), isoTime(k.retiresAt), k.origin])));
    }
    return EXIT_OK;
  },
};

const retire: Command = {
  path: ['keys', 'retire'],
  summary: 'retire a signing key at once: every token it signed stops verifying (a leaked key)',
  usage: 'keys retire <kid> [--json] [config flags]',
  options: { ...jsonOption },
  maxPositionals: 1,
  usesConfig: true,
  details: 'Exits 1 when no signing key has that kid. Rotate first if it is the active key.',
  async run(args, { io, env }) {
    const kid = requiredPositional(args, 'kid', 'keys retire');
    const retired = await withManager(args.configArgv, env, (manager) => manager.keys.retire(kid), { signingKeys: true });
    if (!retired) throw failure(`keys retire: no signing key with kid ${escapeText(kid.slice(0, 80))}`);
    io.stdout(args.values.json ? jsonLine({ retired: true, kid }) : `retired signing key ${escapeText(kid)}\n`);
    return EXIT_OK;
  },
};

export const signingKeyCommands: Command[] = [rotate, signing, retire];
