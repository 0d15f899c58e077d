import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** A child process running sqlite-worker.ts, read as a stream of JSON lines. */
export interface Worker {
  child: ChildProcess;
  /** The next message the worker prints (rejects if it exits first). */
  next(): Promise<Record<string, unknown>>;
  /** Resolves with the exit code or signal once the process ended. */
  exited: Promise<number | string | null>;
}

/** Starts `sqlite-worker.ts <command> <file> [args]` in a real second Node process. */
export function startWorker(command: string, file: string, args: string[] = []): Worker {
  const child = spawn(process.execPath, ['--import', './test/stores/helpers/register-ts.mjs', 'test/stores/helpers/sqlite-worker.ts', command, file, ...args],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const queue: Record<string, unknown>[] = [];
  const waiting: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let stderr = '';
  let ended = false;
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w.resolve(message);
    else queue.push(message);
  });
  const exited = new Promise<number | string | null>((resolve) => {
    child.on('close', (code, signal) => {
      ended = true;
      for (const w of waiting.splice(0)) w.reject(new Error(`worker ${command} exited (${code ?? signal}) before answering: ${stderr}`));
      resolve(code ?? signal);
    });
  });
  return {
    child,
    exited,
    next() {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      if (ended) return Promise.reject(new Error(`worker ${command} has exited: ${stderr}`));
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}
