// GET /v1/models and /v1/models/:id: finished runs (id = run name) and checkpoints (NAME@STEP),
// as the registry lists them (ModelInfo in ../models.ts), each with its context as `max_model_len`
// (vLLM's field), which evaluation clients read to size prompts.
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../errors.js';
import type { ModelRegistry } from '../models.js';

export const modelsRoutes: FastifyPluginAsync<{ registry: ModelRegistry }> = async (app, { registry }) => {
  app.get('/v1/models', async () => ({ object: 'list', data: await registry.list() }));

  app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => {
    const m = (await registry.list()).find((x) => x.id === req.params.id);
    if (!m) throw new ApiError(404, `The model '${req.params.id}' does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
    return m;
  });
};
