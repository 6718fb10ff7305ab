// The dashboard: its HTTP routes on the API server, the live stream, and the law view.
export { startDashboard, type DashboardServerOptions, type RunningDashboard } from './server.js';
export { registerDashboard, type DashboardOptions, type Dashboard } from './routes.js';
export { runMetrics, METRIC_KEYS, type MetricColumns, type MetricsQuery, type MetricsResponse } from './metrics.js';
export { MetricsService } from './metrics-service.js';
export { addSyntheticRun, addSyntheticSweep, SYNTHETIC_LAW } from './synthetic.js';
export { runSummaries, type RunSummary } from './runs.js';
export { sweepSummaries, type SweepSummary } from './sweeps.js';
export { lawView, type LawView, type VerifyPoint, type BudgetGroup, type Frontier } from './law-view.js';
export { LiveHub } from './live.js';
