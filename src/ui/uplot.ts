// uPlot as the page loads it: a classic script (/vendor/uPlot.iife.min.js) that defines a global,
// so the page needs no import map (an inline script the content security policy would refuse)
// and no bundler. The types come from the npm package.
import type UPlot from 'uplot';

export type { default as UPlot } from 'uplot';

export const uPlot = (globalThis as unknown as { uPlot: typeof UPlot }).uPlot;
