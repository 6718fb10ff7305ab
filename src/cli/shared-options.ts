// Options many commands take, declared once.
import { text } from '../option.js';
import { TRAIN_OPTIONS } from '../train/options.js';

/** Where runs, sweeps and the store live. */
export const HOME = text({ help: 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)', arg: '<dir>' });

/** Kernel threads (default: all cores); `train` takes the same option. */
export const THREADS = TRAIN_OPTIONS.threads;
