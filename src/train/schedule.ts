// Learning-rate schedules. Both start with a linear warm-up.
//  - cosine: decays from the peak to minLr over the whole run (the GPT-3 / Chinchilla default).
//  - wsd: warm-up, stable at the peak, then a linear cooldown to minLr over the last `cooldown`
//    fraction (Hägele et al. 2024); a run can be cooled down from any stable-phase checkpoint.

export const SCHEDULES = ['cosine', 'wsd'] as const;
export type ScheduleKind = (typeof SCHEDULES)[number];

export interface Schedule {
  kind: ScheduleKind;
  lr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** wsd only: the fraction of steps spent cooling down. */
  cooldown: number;
}

/** The learning rate of step s (counting from 0). */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  if (s.kind === 'cosine') {
    const span = Math.max(1, s.totalSteps - s.warmupSteps);
    const progress = Math.min(1, (step - s.warmupSteps) / span);
    return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * progress));
  }
  const cooldownSteps = Math.round(s.totalSteps * s.cooldown);
  const start = s.totalSteps - cooldownSteps;
  if (step < start) return s.lr;
  const progress = Math.min(1, (step - start + 1) / Math.max(1, cooldownSteps));
  return s.lr + (s.minLr - s.lr) * progress;
}
