// Evaluation tasks: built-in (synthetic, Brown, bits per byte) and users' JSONL files.
export { BUILTIN_TASKS, resolveTask, resolveTasks, type BuiltinTask, type TaskOptions } from './registry.js';
export { syntheticTask, SYNTHETIC_NAMES, SYNTHETIC_SIZE } from './synthetic.js';
export { brownClozeTask } from './brown-cloze.js';
export { brownGenreTask, GENRE_CHOICES } from './brown-genre.js';
export { brownBpbTask, fileBpbTask } from './bpb.js';
export { brownHeldOut, BROWN_CATEGORIES, type HeldOutDoc } from './brown-docs.js';
export { jsonlTask } from './jsonl.js';
export { defineTask, limitTask } from './define.js';
