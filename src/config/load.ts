import { readFileSync } from 'node:fs';
import { describeValue, OPTION_SPECS, OPTIONS_BY_NAME, type OptionSpec, type ServiceConfig } from './schema.js';

/**
 * A configuration that cannot be used. The message is one line that names the option and where
 * its value came from, so start-up can print it and stop.
 *
 * @example
 * try { loadConfig({ env: { SESSIONKIT_PORT: 'x' } }) } catch (err) {
 *   // err.message: 'invalid option port (SESSIONKIT_PORT): expected an integer from 0 to 65535, got "x"'
 * }
 */
export class ConfigError extends Error {
  /** The option's name in the schema, or null when the problem is not one option's. */
  readonly option: string | null;

  constructor(message: string, option: string | null = null) {
    super(oneLine(message));
    this.name = 'ConfigError';
    this.option = option;
  }
}

export interface LoadConfigInput {
  /** Command-line flags, e.g. `['--port', '8081', '--insecure-cookies']`. Default none. */
  argv?: string[];
  /** Environment variables. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** A JSON config file; overrides `--config` and `SESSIONKIT_CONFIG`. */
  file?: string;
}

interface RawValue {
  value: unknown;
  source: string;
}

const BY_FLAG: ReadonlyMap<string, OptionSpec> = new Map(OPTION_SPECS.map((o) => [o.flag, o]));

/** Options whose value is a secret: given as a flag, they are visible to every local user (`ps`). */
const SECRET_OPTIONS: ReadonlySet<string> = new Set(['adminKey', 'masterKey', 'secret', 'oidcClientSecret']);

/**
 * Resolves the service configuration: defaults, then the JSON file (`file`, `--config` or
 * `SESSIONKIT_CONFIG`), then `SESSIONKIT_*` variables, then `--kebab-case` flags, each later
 * source overriding the earlier. Every value is checked by its option's zod type; the first bad
 * one throws a `ConfigError` naming it.
 *
 * @example
 * const config = loadConfig({ argv: ['--port', '0', '--store', 'memory:'], env: process.env });
 * config.idleTimeout // 1_800_000
 */
export function loadConfig(input: LoadConfigInput = {}): ServiceConfig {
  const env = input.env ?? process.env;
  const flags = parseFlags(input.argv ?? []);
  const raw = new Map<string, RawValue>();
  for (const o of OPTION_SPECS) {
    if (o.defaultText !== null) raw.set(o.name, { value: o.defaultText, source: 'default' });
  }
  const file = input.file ?? (flags.get('config')?.value as string | undefined) ?? nonEmpty(env.SESSIONKIT_CONFIG);
  if (file !== undefined) {
    for (const [name, value] of Object.entries(readConfigFile(file))) raw.set(name, { value, source: `in ${file}` });
    raw.set('config', { value: file, source: input.file !== undefined ? 'file' : flags.has('config') ? '--config' : 'SESSIONKIT_CONFIG' });
  }
  const warnings: string[] = [];
  const known = new Set(OPTION_SPECS.map((o) => o.env));
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('SESSIONKIT_') || value === undefined) continue;
    if (!known.has(key)) {
      warnings.push(`ignored variable ${key}: no such option`);
      continue;
    }
    const o = OPTION_SPECS.find((s) => s.env === key) as OptionSpec;
    // An empty variable counts as unset, as shells make it easy to export one by accident.
    if (value !== '' && o.name !== 'config') raw.set(o.name, { value, source: key });
  }
  for (const [name, v] of flags) {
    if (name === 'config') continue;
    raw.set(name, v);
    const o = OPTIONS_BY_NAME.get(name);
    if (o !== undefined && SECRET_OPTIONS.has(name)) {
      warnings.push(`${v.source} puts a secret on the command line, where ps, /proc and shell history show it (and npm echoes it); use ${o.env} or a JSON config file readable only by you (--config)`);
    }
  }

  const out: Record<string, unknown> = { warnings };
  for (const o of OPTION_SPECS) {
    const v = raw.get(o.name);
    if (v === undefined) {
      out[o.name] = o.name === 'allowedOrigins' ? [] : null;
      continue;
    }
    const parsed = o.schema.safeParse(v.value);
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(`invalid option ${o.name} (${v.source === 'default' ? 'default' : v.source}): ${reason}`, o.name);
    }
    out[o.name] = parsed.data;
  }
  return out as unknown as ServiceConfig;
}

/** `--name value`, `--name=value` and bare `--flag` for boolean options; anything else is refused. */
function parseFlags(argv: string[]): Map<string, RawValue> {
  const out = new Map<string, RawValue>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new ConfigError(`unexpected argument ${describeValue(arg)}: options are --name value or --name=value`);
    const flag = match[1] as string;
    const o = BY_FLAG.get(flag);
    if (!o) throw new ConfigError(`unknown option --${flag}`);
    let value: unknown = match[2];
    if (value === undefined) {
      if (o.type === 'boolean') {
        value = true;
      } else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new ConfigError(`option --${flag} needs a value`, o.name);
        value = next;
        i += 1;
      }
    }
    out.set(o.name, { value, source: `--${flag}` });
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`invalid option config: cannot read ${path} (${code})`, 'config');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`invalid option config: ${path} is not valid JSON (${(err as Error).message})`, 'config');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`invalid option config: ${path} must hold a JSON object of options`, 'config');
  }
  for (const key of Object.keys(parsed)) {
    if (!OPTIONS_BY_NAME.has(key) || key === 'config') throw new ConfigError(`unknown option ${JSON.stringify(key.slice(0, 60))} in ${path}`);
  }
  return parsed as Record<string, unknown>;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\r\n\u0000-\u001f\u007f]+/g, ' ').trim();
}
