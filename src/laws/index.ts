// Scaling-law fitting: Chinchilla's Approach 3 (a parametric L(N, D) fitted with Huber loss from a
// grid of L-BFGS starts, with bootstrap intervals) and Approach 2 (isoFLOP parabolas), plus the
// CSV reader and input checks they share; and loss against compute alone, L(C) = E + A/C^α.
export { lbfgs, lbfgsInPlace, LbfgsWorkspace, LBFGS_DEFAULTS, type LbfgsOptions, type LbfgsResult, type LbfgsStop, type ObjectiveInPlace } from './lbfgs.js';
export {
  fitChinchilla, predictLoss, computeOptimal, gridStarts, fitFromStarts, ChinchillaObjective,
  PAPER_GRID, HUBER_DELTA, CHINCHILLA_LBFGS, SCREEN_LBFGS,
  type ChinchillaFit, type ChinchillaOptions, type ComputeOptimal, type GridSpec, type FitStartsOptions,
} from './chinchilla.js';
export {
  bootstrapChinchilla, percentileInterval, BOOTSTRAP_GRID,
  type BootstrapOptions, type BootstrapResult, type Interval, type OptimalIntervals,
} from './bootstrap.js';
export { fitIsoflop, SPREAD_LIMIT, type IsoflopFit, type IsoflopBudget, type IsoflopOptions, type Parabola, type PowerLaw } from './isoflop.js';
export { validatePoints, checkFit, degeneracy, fitWarnings, MIN_POINTS, type LawParams } from './validate.js';
export { readPointsCsv, parsePointsCsv, shownCell, type ScalingPoint } from './points.js';
export { parseExclude, applyExcludes, type ExcludeRule, type Excluded } from './exclude.js';
export { fitComputeLaw, budgetBests, computeLawLoss, COMPUTE_LAW, MIN_BUDGETS, type ComputeLawReport, type ComputeLawFit, type BudgetBest } from './compute-law.js';
