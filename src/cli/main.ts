#!/usr/bin/env node
/** The `ztoken` executable: runs one command line and exits with its code. */
import { main } from './program.js';

const code = await main(process.argv);
process.exitCode = code;
// Anything still holding the event loop (a keep-alive socket, a driver's pool) must not keep a
// finished command alive.
setTimeout(() => process.exit(code), 1500).unref();
