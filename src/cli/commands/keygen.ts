/**
 * `ztoken keygen [--id ID] [--out FILE]`: a new encryption key as `id:base64`, the line that
 * ZTOKEN_KEYS and key files hold. It is the one command whose output is a secret, so it prints
 * nothing else on stdout (`ztoken keygen >> keys` stays a valid key file); `--out` writes a new
 * file with mode 0600 instead and never replaces one (a lost key loses its tokens).
 */
import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { generateKey } from '../../crypto/keys.js';
import { TokenStoreError } from '../../errors.js';
import { addDebugOption, addExamples, type CliRuntime } from '../context.js';
import { CliError, UsageError } from '../errors.js';

interface KeygenFlags {
  id?: string;
  out?: string;
}

/** Writes `text` to a new file of mode 0600; an existing file is refused, never replaced. */
export function writeNewSecretFile(path: string, text: string): void {
  let fd: number;
  try {
    // O_EXCL: the open fails if anything (a file, a symlink) is already there.
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new CliError(`${path} already exists: keygen --out never overwrites a file (a lost key loses every token encrypted with it)`, {
        hint: `Choose a new file, or append the key to this one: ztoken keygen >> ${path}`,
      });
    }
    throw new CliError(`Cannot create the key file ${path}: ${code ?? (error as Error).message}`);
  }
  try {
    fchmodSync(fd, 0o600); // the umask may only remove bits: make the mode exactly 0600
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function registerKeygen(program: Command, cli: CliRuntime): void {
  const command = program
    .command('keygen')
    .description('print a new encryption key (id:base64) for ZTOKEN_KEYS or a key file: the one command that prints a secret')
    .option('--id <id>', 'key id: 1 to 32 of A-Z a-z 0-9 _ - (default: k<date>-<random>)')
    .option('--out <file>', 'write the key to this new file (mode 0600) instead of printing it; an existing file is refused');
  addDebugOption(command);
  command.addHelpText(
    'after',
    `
The key is 32 random bytes. This command prints it on purpose (stdout holds only the key line, so
it can be appended to a key file); keep it out of shell history, logs and chats. Every other
command shows secrets redacted.

In a key list the last key encrypts new writes and every key reads. To rotate: put the new key
first everywhere, then last, then run ztoken rotate-key (see docs/security.md).`,
  );
  addExamples(command, [
    'ztoken keygen --out ./ztoken.keys             # a new key file, mode 0600',
    'ztoken keygen --id k2 >> ./ztoken.keys        # add a key: the last one encrypts new writes',
    'export ZTOKEN_KEYS="$(ztoken keygen --id k1)"',
  ]);
  command.action((opts: KeygenFlags) => {
    let key: ReturnType<typeof generateKey>;
    try {
      key = generateKey(opts.id);
    } catch (error) {
      // The id was typed on this command line and names a key, it is no secret: show it.
      if (error instanceof TokenStoreError) {
        throw new UsageError(`--id ${JSON.stringify(opts.id)} is not a key id: use 1 to 32 characters of A-Z a-z 0-9 _ -`, {
          cause: error,
        });
      }
      throw error;
    }
    const { out } = cli;
    if (opts.out === undefined) {
      out.line(key.line);
      return;
    }
    writeNewSecretFile(opts.out, `${key.line}\n`);
    out.line(out.ok(`Wrote key "${key.id}" to ${opts.out} (mode 0600)`));
    out.line(out.c.dim(`Use it with --key-file ${opts.out} or ZTOKEN_KEY_FILE=${opts.out}, on a store URL with ?encrypt=1.`));
  });
}
