/**
 * npm run bench — every benchmark, one after the other, each writing its section of
 * docs/performance.md. A name on the command line runs just that one (`npm run bench -- import`).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['import', 'signing', 'pglite-crash', 'search', 'notify'];
const only = process.argv.slice(2);
let failed = false;
for (const name of benches.filter((b) => only.length === 0 || only.includes(b))) {
  console.log(`\n=== bench: ${name} ===`);
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(`./${name}.ts`, import.meta.url))],
    {
      stdio: 'inherit',
    },
  );
  if (run.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
