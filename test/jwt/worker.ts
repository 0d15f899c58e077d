/**
 * A second process sharing a SQLite store with a JWT test:
 *   node --import ./test/stores/helpers/register-ts.mjs test/jwt/worker.ts <file>
 * It reads commands from stdin, one JSON object per line, and answers each with one line:
 *   {"validate": token}        → {"code": "ok" | <SessionError code>}
 *   {"untilRejected": token}   → validates every 10 ms until refused: {"code", "at": epoch ms, "tries"}
 * It prints codes and times only, never a token.
 */
import { createInterface } from 'node:readline';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { sqliteStore } from '../../src/stores/sqlite.js';

const [path] = process.argv.slice(2);
const store = sqliteStore({ path: path as string });
const sessions = createSessionManager({
  store, secret: 'jwt-cross-process-secret-0123456789abcdef', masterKey: Buffer.alloc(32, 5),
  jwt: { issuer: 'https://auth.example.test', audience: 'https://api.example.test' },
});
const say = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
const attempt = async (token: string): Promise<string> => {
  try {
    await sessions.validate(token);
    return 'ok';
  } catch (err) {
    return err instanceof SessionError ? err.code : `unexpected: ${String(err)}`;
  }
};

createInterface({ input: process.stdin }).on('line', async (line) => {
  const command = JSON.parse(line) as { validate?: string; untilRejected?: string };
  if (command.validate) say({ code: await attempt(command.validate) });
  else if (command.untilRejected) {
    for (let tries = 1; ; tries += 1) {
      const code = await attempt(command.untilRejected);
      if (code !== 'ok' || tries >= 3000) {
        say({ code, at: Date.now(), tries });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
});
process.stdin.on('end', () => {
  void sessions.close().then(() => process.exit(0));
});
say({ ready: true });
