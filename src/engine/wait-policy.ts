// How idle OpenMP threads wait for the next kernel. libgomp reads this once, when the native
// library loads, so it is settled before the command line is parsed: bin/scalelab.js calls
// waitPolicyForCommand first, and src/engine/native.ts applies the default as it loads.
//
// - Sleep (OMP_WAIT_POLICY=passive), the default: when anything else runs (a second training,
//   a sweep's workers, the dashboard), a spinning thread holds a core the others need. Two
//   trainings at once on 2 cores finished in 36 s sleeping, 46 s spinning 10,000 rounds.
// - Spin briefly, then sleep (GOMP_SPINCOUNT), for serving and for (de)compressing: a decode step
//   is dozens of kernels of tens of microseconds each, and waking a sleeping thread for each
//   costs more than the kernel, so with sleeping threads two threads decoded a batch of 32 slower
//   than one; decompressing 150 kB with lm-4x192 took 8.5–8.7 s sleeping, 7.7–8.0 s spinning.
//
// Whatever the user set (OMP_WAIT_POLICY or GOMP_SPINCOUNT) wins.

/** Spin rounds (pause instructions) before an idle thread sleeps, when serving. */
export const SERVING_SPIN_COUNT = 10_000;

type Env = Record<string, string | undefined>;

const userChose = (env: Env) => env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined;

/** Decoding commands (`serve`, `bench serve`, `compress`, `decompress`, `bench compress`) spin briefly; call before the native library loads. */
export function waitPolicyForCommand(args: string[], env: Env = process.env): void {
  const words = args.filter((a) => !a.startsWith('-'));
  const decoding = ['serve', 'compress', 'decompress'].includes(words[0]) || (words[0] === 'bench' && ['serve', 'compress'].includes(words[1]));
  if (decoding && !userChose(env)) env.GOMP_SPINCOUNT = String(SERVING_SPIN_COUNT);
}

/** The default for everything else: idle threads sleep. */
export function applyDefaultWaitPolicy(env: Env = process.env): void {
  if (!userChose(env)) env.OMP_WAIT_POLICY = 'passive';
}
