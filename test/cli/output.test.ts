import { describe, expect, it } from 'vitest';
import { escapeText, jsonLine, table } from '../../src/cli/output.js';
import { redactStoreUrl } from '../../src/cli/redact.js';
import { parseCommandLine } from '../../src/cli/args.js';

describe('CLI output helpers', () => {
  it('escapes every control character and line separator, and backslashes, so nothing forges a line', () => {
    expect(escapeText('u1\r\nadmin')).toBe('u1\\r\\nadmin');
    expect(escapeText('\u001b[2J\u0000\u009b\u2028x\\y')).toBe('\\u001b[2J\\u0000\\u009b\\u2028x\\\\y');
    expect(escapeText(null)).toBe('-');
    expect(jsonLine({ a: 'x\u2028y\n' })).toBe('{"a":"x\\u2028y\\n"}\n');
  });

  it('pads table columns by their escaped width', () => {
    expect(table(['ID', 'NAME'], [['a', 'x\ny'], ['long-id', null]])).toBe('ID       NAME\na        x\\ny\nlong-id  -\n');
  });

  it('redacts passwords and secret parameters from store URLs', () => {
    expect(redactStoreUrl('postgres://app:s3cret@db:5432/sessions?sslmode=require')).toBe('postgres://app:***@db:5432/sessions?sslmode=require');
    expect(redactStoreUrl('redis://:pw@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(redactStoreUrl('redis+cluster://u:p@a:7000,b:7001')).toBe('redis+cluster://u:***@a:7000,b:7001');
    expect(redactStoreUrl('postgres://db/x?password=hunter2&application_name=sk')).toBe('postgres://db/x?password=***&application_name=sk');
    expect(redactStoreUrl('sqlite:./data/sessionkit.db')).toBe('sqlite:./data/sessionkit.db');
  });

  it('hands configuration flags on untouched and keeps the command\'s own', () => {
    const flags = { port: { type: 'string' as const }, 'insecure-cookies': { type: 'boolean' as const } };
    const parsed = parseCommandLine(['--user', 'u1', '--port=-1', '--insecure-cookies=false', '--json', 'x'],
      { user: { type: 'string', description: '' }, json: { type: 'boolean', description: '' } }, flags, 1);
    expect(parsed.values).toEqual({ user: 'u1', json: true });
    expect(parsed.positionals).toEqual(['x']);
    expect(parsed.configArgv).toEqual(['--insecure-cookies=false', '--port=-1']);
    expect(() => parseCommandLine(['--port', '-1'], {}, flags)).toThrow("sessionkit: option '--port' needs a value; write --port=<value> for a value starting with '-'");
    expect(() => parseCommandLine(['--json=yes'], { json: { type: 'boolean', description: '' } })).toThrow("sessionkit: option '--json' takes no value");
  });
});
