// Evaluation's public API: tasks, scorers (local and endpoint), the runner and emergence.
export type { Example, LoglikelihoodExample, GenerateExample, RollingExample, Task, TaskKind, Scorer, LoglikelihoodRequest, LoglikelihoodResult, GenerateRequest } from './types.js';
export { LocalScorer, type LocalScorerOptions } from './local-scorer.js';
export { EndpointScorer, endpointSubject, type EndpointOptions } from './endpoint.js';
export { EndpointError } from './endpoint-client.js';
export { evaluateTask, rollingRequests, UnsupportedTaskError, type EvaluateOptions, type OutcomeSink, type TaskReport } from './runner.js';
export { evaluateSubjects, type EvaluateSubjectsOptions, type EvalRow } from './evaluate.js';
export { runSubjects, type Subject } from './subjects.js';
export { taskMetrics, editDistance, normalisedEditDistance, type MetricValue, type Outcome } from './metrics.js';
export { emergenceView, shapeOf, type EmergenceView, type EmergenceSeries, type EmergenceQuery } from './emergence.js';
export { buildPrompt } from './fewshot.js';
export { truncateLeft } from './truncate.js';
export * from './tasks/index.js';
// Video quality: the clip detector, its aggregate, the fixed prompts and their chance levels.
export { readClip, VIDEO_DETECTOR_VERSION, VIDEO_METRICS, type ObjectReading, type VideoMetric, type VideoReading } from './video-detector.js';
export { aggregateVideo, videoMetric } from './video-scores.js';
export { VIDEO_EVAL_PROMPTS, VIDEO_EVAL_SEEDS, VIDEO_EVAL_SET_NAME, videoEvalSet, type VideoEvalItem } from './video-prompts.js';
export { CHANCE_BASELINE, VIDEO_CHANCE, estimateVideoChance, shuffleFrames } from './video-chance.js';
