/** Where a command writes: the process's streams, or a test's buffers. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's own streams. */
export const processIo: CliIo = {
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
};

/**
 * Makes any stored string safe to print on a terminal line: control characters (CR, LF, ESC, …)
 * and the Unicode line separators become visible escapes, so a user id holding `\r\n` or an ANSI
 * sequence cannot forge a line or repaint the screen.
 *
 * @example escapeText('u1\r\nadmin') // 'u1\\r\\nadmin'
 */
export function escapeText(value: unknown): string {
  const text = value === null || value === undefined ? '-' : String(value);
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/g, (ch) => {
    switch (ch) {
      case '\\': return '\\\\';
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

/**
 * One JSON document per line: `JSON.stringify` escapes control characters, and U+2028/U+2029
 * are escaped too so line-oriented readers split exactly where we did.
 *
 * @example io.stdout(jsonLine({ revoked: 2 }))
 */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}\n`;
}

/**
 * A plain-text table with a header row; every cell is escaped and columns are padded to fit.
 *
 * @example io.stdout(table(['ID', 'NAME'], [['k1', 'app']]))
 */
export function table(header: string[], rows: unknown[][]): string {
  const cells = [header, ...rows.map((row) => row.map(escapeText))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : (cell ?? '').padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n') + '\n';
}

/**
 * An epoch-milliseconds time or a `Date` as an ISO-8601 UTC string (null stays null).
 *
 * @example isoTime(0) // '1970-01-01T00:00:00.000Z'
 */
export function isoTime(value: number | Date | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
