import { parseArgs } from 'node:util';
import { usageError } from './errors.js';
import { escapeText } from './output.js';

/** One option of a command, as `node:util` `parseArgs` takes it, plus its help line. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in `--help`, e.g. `<id>` for a string option. */
  valueName?: string;
  description: string;
}

/** What `parseCommandLine` found. */
export interface ParsedCommandLine {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** The configuration flags, as written, to hand to `loadConfig({ argv })`. */
  configArgv: string[];
}

/**
 * Parses a command's arguments strictly: the command's own options, plus (when `configFlags` is
 * given) the service configuration's flags, which are handed back untouched in `configArgv` so the
 * configuration loader remains the one place that validates them. Anything unknown, a missing
 * value or an unexpected positional is a usage error (exit 2) naming the offending argument.
 *
 * @example
 * const { values, configArgv } = parseCommandLine(argv, { user: { type: 'string', description: 'user id' } }, flags);
 */
export function parseCommandLine(
  argv: string[],
  options: Record<string, OptionSpec>,
  configFlags: Record<string, { type: 'string' | 'boolean' }> = {},
  maxPositionals = 0,
  command = 'sessionkit',
): ParsedCommandLine {
  const merged: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(configFlags)) merged[name] = { type: spec.type };
  for (const [name, spec] of Object.entries(options)) {
    merged[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  // `--insecure-cookies=false`: parseArgs refuses a value on a boolean flag, so configuration
  // booleans written with one go straight to the configuration loader, which validates them.
  const configArgv: string[] = [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const inline = /^--([^=]+)=/.exec(arg);
    if (inline && configFlags[inline[1] as string]?.type === 'boolean' && !(inline[1] as string in options)) configArgv.push(arg);
    else args.push(arg);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options: merged, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw usageError(`${command}: ${describeParseError(err)}`);
  }
  const values: ParsedCommandLine['values'] = {};
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (token.name in options) continue;
    // A configuration flag: passed on as --name=value so a value starting with '-' survives.
    configArgv.push(token.value === undefined ? `--${token.name}` : `--${token.name}=${token.value}`);
  }
  for (const name of Object.keys(options)) values[name] = (parsed.values as ParsedCommandLine['values'])[name];
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals] as string;
    throw usageError(`${command}: unexpected argument '${escapeText(extra.slice(0, 80))}'`);
  }
  return { values, positionals: parsed.positionals, configArgv };
}

/** `parseArgs`'s errors, reworded as one short line that names the offending argument. */
function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const quoted = escapeText(/'([^']*)'/.exec(message)?.[1] ?? '');
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option '${quoted.slice(0, 60)}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(message)) return `option '${quoted.replace(/ <value>$/, '')}' needs a value`;
      if (/ambiguous/.test(message)) return `option '${quoted}' needs a value; write ${quoted}=<value> for a value starting with '-'`;
      return `option '${quoted}' takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return `unexpected argument '${quoted.slice(0, 60)}'`;
    default: return message.split('\n')[0] ?? message;
  }
}

/**
 * The `Options:` block of a command's help text.
 *
 * @example optionHelp({ json: { type: 'boolean', description: 'print JSON' } })
 */
export function optionHelp(options: Record<string, OptionSpec>): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? '<value>'}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(0, ...rows.map(([flag]) => flag.length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`).join('\n');
}
