// How an emergence verdict reads, for the `scalelab emergence` table and the dashboard's chart
// alike ("abrupt: 89% of the rise between 3.0e+12 and 6.0e+12 FLOPs"). Pure and DOM-free, so the
// page imports it as is (src/common/ is served under /common/).

/** The parts of a metric's shape (src/eval/emergence.ts, Shape) that the sentence needs. */
export interface ShapeLike {
  largestJump: number | null;
  between: [number, number] | null;
  verdict: string;
}

/** One line for a metric's shape along `axis`; FLOPs are written by `flops` (default 3.0e+12). */
export function describeShape(shape: ShapeLike, axis: 'flops' | 'step', flops: (v: number) => string = (v) => v.toExponential(1)): string {
  if (shape.between === null || shape.largestJump === null) return shape.verdict;
  const [a, b] = shape.between;
  const at = axis === 'flops' ? `${flops(a)} and ${flops(b)} FLOPs` : `steps ${a} and ${b}`;
  return `${shape.verdict}: ${(100 * shape.largestJump).toFixed(0)}% of the rise between ${at}`;
}
