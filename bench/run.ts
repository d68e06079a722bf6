/**
 * `npm run bench [suite ...]`: runs every suite in bench/suites (or the named ones), prints a
 * table of medians per suite and writes all rows to bench/results/latest.json (and a dated copy).
 * `npm run bench -- --scale N [suite ...]` runs at 1,000 and N tokens, and by default only the
 * scale suite (every store, bulk-loaded, plain and encrypted); without --scale that suite is
 * left out unless named.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import { setup as trackSharedTables } from '../test/global-setup.js';
import { type BenchContext, type BenchRow, formatUs, measure } from './lib.js';

const quick = process.env.BENCH_QUICK === '1';
const here = import.meta.dirname;
const { scale, wanted } = parseArgs(process.argv.slice(2));
const SCALE_SUITE = 'scale';
const files = readdirSync(join(here, 'suites'))
  .filter((f) => f.endsWith('.ts'))
  .filter((f) => {
    const name = f.replace(/\.ts$/, '');
    return wanted.length > 0 ? wanted.includes(name) : scale === undefined ? name !== SCALE_SUITE : name === SCALE_SUITE;
  })
  .sort();

/** `--scale N` (N a whole number of at least 1,000) and the suite names. */
function parseArgs(args: string[]): { scale: number | undefined; wanted: string[] } {
  const at = args.indexOf('--scale');
  if (at < 0) return { scale: undefined, wanted: args };
  const value = Number(args[at + 1]?.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isSafeInteger(value) || value < 1_000) {
    console.error(`--scale needs a whole number of tokens, at least 1000 (got ${args[at + 1] ?? 'nothing'})`);
    process.exit(2);
  }
  return { scale: value, wanted: args.filter((_, i) => i !== at && i !== at + 1) };
}

// The database suites use the test databases: leave them as found (as the tests do).
const restoreSharedTables = await trackSharedTables();
const rows: BenchRow[] = [];
for (const file of files) {
  const suite = file.replace(/\.ts$/, '');
  const mod = (await import(pathToFileURL(join(here, 'suites', file)).href)) as { run: (ctx: BenchContext) => Promise<void> };
  const suiteRows: BenchRow[] = [];
  const ctx: BenchContext = {
    record: (row) => suiteRows.push(row),
    measure,
    sizes: scale !== undefined ? [...new Set([1_000, scale])] : quick ? [1_000, 10_000] : [1_000, 10_000, 100_000],
    quick,
  };
  console.log(`\n== ${suite}`);
  try {
    await mod.run(ctx);
  } catch (error) {
    console.log(`suite ${suite} failed: ${(error as Error).message}`);
    suiteRows.push({ suite, subject: 'suite', operation: 'failed', medianUs: Number.NaN, samples: 0, note: (error as Error).message });
  }
  const table = new Table({ head: ['subject', 'operation', 'tokens', 'median', 'p99', 'samples', 'note'] });
  for (const r of suiteRows) {
    table.push([
      r.subject,
      r.operation,
      r.tokens?.toLocaleString('en-US') ?? '',
      formatUs(r.medianUs),
      r.p99Us === undefined ? '' : formatUs(r.p99Us),
      r.samples,
      r.note ?? '',
    ]);
  }
  console.log(table.toString());
  rows.push(...suiteRows);
}

mkdirSync(join(here, 'results'), { recursive: true });
const payload = JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, scale, rows }, null, 2);
writeFileSync(join(here, 'results', 'latest.json'), payload);
writeFileSync(
  join(
    here,
    'results',
    `${new Date().toISOString().slice(0, 10)}${scale === undefined ? '' : `-scale-${scale}`}${wanted.length ? `-${wanted.join('-')}` : ''}.json`,
  ),
  payload,
);
console.log(`\nwrote bench/results/latest.json (${rows.length} rows)`);
await restoreSharedTables();
process.exit(0);
