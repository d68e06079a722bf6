/** A file store holds secrets: its file must be readable by its owner only (0600). */
import { statSync } from 'node:fs';
import type { Finding } from './findings.js';

export function checkFileMode(path: string): Finding {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return { check: 'file-mode', level: 'ok', message: `${path} is mode 0${mode.toString(8)}` };
  return {
    check: 'file-mode',
    level: 'error',
    message: `${path} is mode 0${mode.toString(8)}: other users can read the secrets in it`,
    fix: `chmod 600 ${path}`,
  };
}
