/**
 * What the CLI prints: lines, tables (cli-table3), JSON, and colours (picocolors) only where the
 * terminal shows them: never with NO_COLOR, never into a pipe or a file unless FORCE_COLOR asks.
 */
import Table from 'cli-table3';
import picocolors from 'picocolors';
import { scrubText } from './errors.js';

export type Colors = ReturnType<typeof picocolors.createColors>;

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** NO_COLOR (https://no-color.org) wins, then FORCE_COLOR, then whether the stream is a terminal. */
export function colorEnabled(stream: OutputStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** No rule between body rows: one line per token. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export class Output {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Colours for stdout. */
  readonly c: Colors;
  /** Colours for stderr. */
  readonly ce: Colors;
  /** Values never to print whole (the client secret, a grant token given on the command line). */
  readonly secrets = new Set<string>();

  constructor(options: { stdout?: OutputStream; stderr?: OutputStream; env?: NodeJS.ProcessEnv } = {}) {
    const env = options.env ?? process.env;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.c = picocolors.createColors(colorEnabled(this.stdout, env));
    this.ce = picocolors.createColors(colorEnabled(this.stderr, env));
  }

  /** Registers a secret so that no line printed afterwards shows it whole. */
  addSecret(value: string | undefined): void {
    if (value) this.secrets.add(value);
  }

  /** A line on stdout. */
  line(text = ''): void {
    this.stdout.write(`${this.scrub(text)}\n`);
  }

  /** A line on stderr (progress, warnings, errors). */
  note(text = ''): void {
    this.stderr.write(`${this.scrub(text)}\n`);
  }

  warn(text: string): void {
    this.note(`${this.ce.yellow('warning:')} ${text}`);
  }

  json(value: unknown): void {
    this.line(JSON.stringify(value, null, 2));
  }

  /** A table with a header row; cells are shown as given. */
  table(head: string[], rows: (string | number)[][]): string {
    const table = new Table({
      head: head.map((h) => this.c.bold(h)),
      chars: COMPACT,
      style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    });
    for (const row of rows) table.push(row.map(String));
    return table.toString();
  }

  /** A two-column table of names and values. */
  keyValueTable(rows: [string, string][]): string {
    const table = new Table({ chars: COMPACT, style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 } });
    for (const [key, value] of rows) table.push([this.c.bold(key), value]);
    return table.toString();
  }

  ok(text: string): string {
    return `${this.c.green('✓')} ${text}`;
  }

  fail(text: string): string {
    return `${this.c.red('✗')} ${text}`;
  }

  private scrub(text: string): string {
    return scrubText(text, this.secrets);
  }
}
