/** The `dci` command line. Every command reads the environment (README table) and opens the store it names. */
import { Command, Option } from '@commander-js/extra-typings';
import {
  ConfigError,
  DataDirLockedError,
  importFile,
  loadConfig,
  migrateToLatest,
  openDatabase,
  ProgressBar,
  RECORD_TYPES,
  redactUrl,
  serve,
  writeNdjson,
  importRows,
  generatedRows,
  type Config,
  type RecordType,
} from '@opendci/server';
import { CliInputError, printJson, withStore } from './common.js';
import { registerKeysCommands } from './keys.js';
import { registerSendersCommands } from './senders.js';
import { registerSubscriptionsCommands } from './subscriptions.js';

function config(): Config {
  return loadConfig(process.env);
}

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new CliInputError(`${name} must be a positive integer`);
    return n;
  };
}

const program = new Command()
  .name('dci')
  .description('OpenDCI: DCI registry server, client and tools')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('serve')
  .description('run the DCI server')
  .addOption(new Option('--role <role>', 'api, worker or all').choices(['api', 'worker', 'all'] as const))
  .option('--demo', 'load demo data into an empty registry (refused in production)')
  .action(async (options) => {
    if (options.role) process.env.DCI_ROLE = options.role;
    await serve(config(), { demo: Boolean(options.demo) });
  });

program
  .command('migrate')
  .description('apply database migrations')
  .option('--json', 'machine-readable output')
  .action(async (options) => {
    const cfg = config();
    const database = await openDatabase(cfg.databaseUrl);
    try {
      const results = await migrateToLatest(database.db);
      const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
      if (options.json) printJson({ database: redactUrl(cfg.databaseUrl), applied });
      else process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the schema is up to date\n');
    } finally {
      await database.close();
    }
  });

const registry = program.command('registry').description('the registry data');

registry
  .command('import')
  .description('load records from a CSV or NDJSON file (docs/data-formats.md)')
  .argument('<file>', 'the file to load')
  .addOption(
    new Option('--format <format>', 'file format (default: from the extension)').choices(['csv', 'ndjson'] as const),
  )
  .addOption(new Option('--type <type>', 'record type of rows that name none').choices(RECORD_TYPES as RecordType[]))
  .option('--json', 'machine-readable output')
  .action(async (file, options) => {
    const report = await withStore(async (database) => {
      let bar: ProgressBar | undefined;
      let size = 0;
      const result = await importFile(database, file, {
        format: options.format,
        type: options.type,
        onStart: (total) => {
          size = total;
          if (!options.json) bar = new ProgressBar(total);
        },
        onProgress: ({ rows, bytes }) => bar?.update(bytes, rows),
      });
      bar?.update(size, result.rows, true);
      bar?.finish();
      return result;
    });
    if (options.json) {
      printJson(report);
    } else {
      const seconds = (report.durationMs / 1000).toFixed(1);
      process.stdout.write(
        `${report.rows} rows in ${seconds} s: ${report.inserted} inserted, ${report.updated} updated, ` +
          `${report.unchanged} unchanged, ${report.failed} failed\n`,
      );
      for (const error of report.errors) process.stdout.write(`  line ${error.line}: ${error.reason}\n`);
      if (report.failed > report.errors.length) {
        process.stdout.write(`  … and ${report.failed - report.errors.length} more failed rows\n`);
      }
    }
    // Rows that failed are not fatal, but scripts must be able to tell.
    if (report.failed > 0) process.exitCode = 2;
  });

registry
  .command('generate')
  .description('make deterministic synthetic registry data (loads it into the store unless --out is given)')
  .requiredOption('--households <n>', 'number of households', positiveInt('--households'))
  .option('--seed <seed>', 'random seed (same seed, same data)', '1')
  .option('--out <file>', 'write NDJSON to this file instead of loading it')
  .option('--json', 'machine-readable output')
  .action(async (options) => {
    if (options.out) {
      const summary = await writeNdjson(options.out, { households: options.households, seed: options.seed });
      if (options.json) printJson({ file: options.out, ...summary });
      else
        process.stdout.write(
          `wrote ${options.out}: ${summary.households} households, ${summary.individuals} individuals\n`,
        );
      return;
    }
    const report = await withStore((database) => importRows(database, generatedRows(options.households, options.seed)));
    if (options.json) printJson(report);
    else
      process.stdout.write(
        `loaded ${report.inserted} records (${report.unchanged} unchanged, ${report.failed} failed)\n`,
      );
    if (report.failed > 0) process.exitCode = 2;
  });

registerSendersCommands(program);
registerKeysCommands(program);
registerSubscriptionsCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError || error instanceof DataDirLockedError || error instanceof CliInputError) {
    process.stderr.write(`dci: ${error.message}\n`);
  } else {
    process.stderr.write(`dci: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
}
