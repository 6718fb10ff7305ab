// The fixed prompts of `scalelab eval-video`: every colour, shape and motion alone, in pairs, in
// threes, and passing behind the grey bar, each sampled with the same seeds, so runs and
// checkpoints are compared on the same clips. Change nothing here without renaming the set: scores
// recorded under the old set were measured on other prompts.
export const VIDEO_EVAL_SET_NAME = 'clips-v1';

export const VIDEO_EVAL_PROMPTS: readonly string[] = [
  // one object: each colour, shape and motion at least twice
  'a red circle moves right',
  'a green square moves left',
  'a blue triangle moves up',
  'a yellow circle moves down',
  'a white square bounces',
  'a red triangle bounces',
  'a green circle moves up',
  'a blue square moves down',
  'a yellow triangle moves left',
  'a white circle moves right',
  // two objects
  'a red circle moves right while a blue square bounces',
  'a green triangle moves up while a yellow circle moves left',
  'a white square moves down while a red triangle moves right',
  'a blue circle bounces while a green square moves left',
  'a yellow square moves right while a white triangle moves up',
  'a red square moves left while a green circle bounces',
  'a blue triangle moves down while a yellow circle bounces',
  'a white circle moves left while a blue square moves up',
  // three objects
  'a red circle moves up, a green square moves right and a blue triangle bounces',
  'a yellow triangle moves down, a white circle moves left and a red square bounces',
  // behind the bar (object permanence)
  'a red circle moves right behind a grey bar',
  'a blue square moves left behind a grey bar',
  'a green triangle moves right while a yellow circle moves up behind a grey bar',
  'a white square moves left while a red circle bounces behind a grey bar',
];

/** Sampling seeds, the same for every prompt. */
export const VIDEO_EVAL_SEEDS: readonly number[] = [0, 1, 2, 3];

export interface VideoEvalItem {
  prompt: string;
  seed: number;
}

/** The prompts × seeds, prompt-major. */
export function videoEvalSet(): VideoEvalItem[] {
  return VIDEO_EVAL_PROMPTS.flatMap((prompt) => VIDEO_EVAL_SEEDS.map((seed) => ({ prompt, seed })));
}
