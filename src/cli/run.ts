import { readFileSync } from 'node:fs';
import { optionHelp, parseCommandLine } from './args.js';
import type { Command, CommandContext } from './command.js';
import { commands } from './commands/index.js';
import { describeFailure, EXIT_OK, EXIT_USAGE, usageError } from './errors.js';
import { escapeText, processIo, type CliIo } from './output.js';
import { configFlags } from './service.js';

/**
 * Runs one `sessionkit` invocation and resolves with its exit code: 0 ok, 1 a run-time failure
 * (store unreachable, unknown id), 2 a usage or configuration error. Failures are one line on
 * stderr, prefixed `sessionkit: `. Never throws.
 *
 * @example process.exitCode = await runCli(process.argv.slice(2))
 */
export async function runCli(argv: string[], options: { io?: CliIo; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<number> {
  const io = options.io ?? processIo;
  const ctx: CommandContext = { io, env: options.env ?? process.env, signal: options.signal ?? new AbortController().signal };
  try {
    if (argv[0] === '--version' || argv[0] === '-v') {
      io.stdout(`${version()}\n`);
      return EXIT_OK;
    }
    const { command, rest, group } = selectCommand(argv);
    if (!command) {
      // Asked for (--help, help): stdout and success. A bare group word is an incomplete command.
      if (rest.length > 0) {
        io.stdout(groupHelp(group));
        return EXIT_OK;
      }
      io.stderr(groupHelp(group));
      return EXIT_USAGE;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(commandHelp(command));
      return EXIT_OK;
    }
    const name = command.path.join(' ');
    const args = parseCommandLine(rest, command.options, command.usesConfig ? configFlags() : {}, command.maxPositionals ?? 0, name);
    return await command.run(args, ctx);
  } catch (err) {
    const { message, exitCode } = describeFailure(err);
    io.stderr(`sessionkit: ${message}\n`);
    return exitCode;
  }
}

/**
 * Finds the command named by the leading words of `argv` (`serve`, `keys create`, ...). No words,
 * a group word alone (`keys`) or `help` select the help of that group; an unknown word is a usage
 * error.
 */
function selectCommand(argv: string[]): { command: Command | null; rest: string[]; group: string[] } {
  let words = argv;
  if (words[0] === 'help') words = [...words.slice(1).filter((w) => !w.startsWith('-')), '--help'];
  const path: string[] = [];
  for (const word of words.slice(0, 2)) {
    if (word.startsWith('-')) break;
    const candidate = [...path, word];
    if (!commands.some((c) => startsWith(c.path, candidate))) {
      const where = path.length ? ` ${path.join(' ')}` : '';
      throw usageError(`unknown command '${escapeText(candidate.join(' ').slice(0, 60))}' (see sessionkit${where} --help)`);
    }
    path.push(word);
    if (commands.some((c) => sameWords(c.path, path))) break;
  }
  const rest = words.slice(path.length);
  const command = commands.find((c) => sameWords(c.path, path)) ?? null;
  if (!command && (rest.length > 1 || (rest.length === 1 && rest[0] !== '--help' && rest[0] !== '-h'))) {
    const where = path.length ? ` ${path.join(' ')}` : '';
    throw usageError(`'sessionkit${where}' needs a command (see sessionkit${where} --help)`);
  }
  return { command, rest, group: path };
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.every((word, i) => path[i] === word);
}

function sameWords(a: string[], b: string[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

/** The overview of every command (or of one group, e.g. `sessionkit keys --help`). */
function groupHelp(group: string[]): string {
  const listed = commands.filter((c) => startsWith(c.path, group));
  const width = Math.max(...listed.map((c) => c.path.join(' ').length));
  const lines = listed.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    `Usage: sessionkit ${group.length ? `${group.join(' ')} ` : ''}<command> [options]`,
    '',
    'Commands:',
    ...lines,
    '',
    'Run `sessionkit <command> --help` for the options of one command.',
    'Exit codes: 0 ok, 1 run-time failure (store unreachable, not found), 2 usage or configuration error.',
    '',
  ].join('\n');
}

/** The help of one command: synopsis, options, configuration flags and details. */
function commandHelp(command: Command): string {
  const parts = [`Usage: sessionkit ${command.usage}`, '', command.summary, ''];
  const own = { ...command.options, help: { type: 'boolean' as const, short: 'h', description: 'show this help' } };
  parts.push('Options:', optionHelp(own), '');
  if (command.usesConfig && command.path[0] !== 'serve') {
    parts.push('Configuration: every option of the service configuration is accepted as a flag',
      '(see `sessionkit serve --help`), a SESSIONKIT_* environment variable, or a JSON file',
      'named by --config or SESSIONKIT_CONFIG. --store selects the store, e.g. --store sqlite:./data/sessionkit.db.', '');
  }
  if (command.details) parts.push(command.details.trimEnd(), '');
  return parts.join('\n');
}

/** The package's version, read from the package.json beside `dist/`. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return `sessionkit ${pkg.version ?? 'unknown'}`;
  } catch {
    return 'sessionkit (version unknown)';
  }
}
