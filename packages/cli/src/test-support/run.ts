/** Runs the built `dci` binary as a user does (npm ci builds it) and collects its output. */
import { spawn } from 'node:child_process';
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
