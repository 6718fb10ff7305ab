// The serving API: an OpenAI-compatible server over the run store's models, its scheduler and registry.
export { startServer, buildApp, type ServeOptions, type RunningServer } from './server.js';
export { keyMatches } from './access.js';
export { Scheduler, sampleFromLogprobs, QueueFullError, type SequenceSpec, type SequenceHandle, type TokenLogprob, type SchedulerOptions } from './scheduler.js';
export { ModelRegistry, DEFAULT_MODEL_CACHE_BYTES, modelBytes, type LoadedModel, type ModelInfo, type RegistryOptions } from './models.js';
export { ModelCache, type ModelCacheOptions } from './model-cache.js';
export { ApiError } from './errors.js';
export { renderChat, CHAT_STOPS, tokenString } from './text.js';
export { Decoder, KVCache } from '../models/decode.js';
