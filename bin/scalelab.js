#!/usr/bin/env node
// The kernel threads' wait policy must be set before the native library loads (see
// src/engine/wait-policy.ts), so it is chosen here, before the CLI and its imports.
import { waitPolicyForCommand } from '../dist/engine/wait-policy.js';

waitPolicyForCommand(process.argv.slice(2));
const { main } = await import('../dist/cli/main.js');
main(process.argv);
