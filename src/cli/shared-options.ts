// Options many commands take, declared once.
import { text } from '../option.js';

/** Where runs, sweeps and the store live. */
export const HOME = text({ help: 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)', arg: '<dir>' });
