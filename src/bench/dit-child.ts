// Child process of `scalelab bench dit` (src/bench/dit.ts): one attention variant, measured in a
// process of its own; options as JSON in argv[2], the result as JSON on stdout.
import { benchDitHere, type Attention, type DitBenchOptions } from './dit.js';

const { attention, ...o } = JSON.parse(process.argv[2]) as DitBenchOptions & { attention: Attention };
process.stdout.write(JSON.stringify(benchDitHere(o, attention)));
