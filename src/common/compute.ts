// Training compute, in one place for every layer and the dashboard's page: C = 6·N·D (Kaplan et
// al. 2020), N the non-embedding parameters and D the tokens trained on: about two FLOPs per
// parameter and token forward, four backward. Attention's own FLOPs and the embeddings are left
// out, as in the scaling-law papers, so a run's C is comparable with theirs.

/** C = 6·N·D. */
export function trainingCompute(nonEmbeddingParams: number, tokens: number): number {
  return 6 * nonEmbeddingParams * tokens;
}

/** D = C / 6N: the tokens that spend compute C on a model of N non-embedding parameters. */
export function tokensForCompute(flops: number, nonEmbeddingParams: number): number {
  return flops / (6 * nonEmbeddingParams);
}
