/**
 * The command that runs this CLI where the user is, for the hints it prints: in a checkout it
 * runs from source (`npm run ztoken -- ...`, the package's script); installed, it is `ztoken`.
 */
export function cliCommand(argv: readonly string[] = process.argv): string {
  return /\.ts$/.test(argv[1] ?? '') ? 'npm run ztoken --' : 'ztoken';
}
