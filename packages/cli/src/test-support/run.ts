/** Runs the built `dci` binary as a user does (npm ci builds it) and collects its output. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../bin/dci.js', import.meta.url));
if (!existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)))) {
  throw new Error('the CLI is not built: run `npm run build` (npm ci does it)');
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runDci(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A port nothing listens on now (the system picks it): a fixed random range could hit a port in
 * use, by a listener or as the local port of a connection, under a busy test run.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
