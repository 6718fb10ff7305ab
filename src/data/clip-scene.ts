// A clip's scene: which objects, where they start and how they move, drawn from a random stream,
// and where each one is in every frame. Painting the scene into pixels is src/data/clips.ts.
//
// Motion is the whole physics of this world: an object moves in a straight line at constant
// speed, and a bouncing one is reflected by the walls (its centre folded into [r, W − r]), so the
// detector can check a trajectory against exactly this model. Objects that move left, right, up
// or down are placed so that they stay inside the frame for the whole clip; a bouncing one hits a
// wall at least once, with frames on both sides of the reflection.
import type { Rng } from '../engine/random.js';
import { UsageError } from '../errors.js';
import type { Caption, CaptionObject } from './clip-caption.js';
import { CLEARANCE, COLOURS, MAX_OBJECTS, MOTIONS, SHAPES, clipGeometry, crossesAt, type ClipConfig, type Shape } from './clip-world.js';

/** A rectangle in pixel units: columns [x0, x1), rows [y0, y1). */
export interface Rect {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export interface SceneObject extends CaptionObject {
  /** Centre at frame 0. */
  x: number;
  y: number;
  /** Velocity in pixels per frame before any reflection. */
  vx: number;
  vy: number;
}

export interface Scene {
  objects: SceneObject[];
  occluder: Rect | null;
}

/** Whether an object can pass wholly behind the bar and out within a clip of this size (clipGeometry gives the bar a width). */
export function barFits(c: ClipConfig): boolean {
  return clipGeometry(c).occluderWidth > 0;
}

/** An object centred at x (half size r) is wholly clear of a vertical bar. */
export function clearOfBar(x: number, r: number, bar: Rect): boolean {
  return x + r + CLEARANCE <= bar.x0 || x - r - CLEARANCE >= bar.x1;
}

/** Probability that a clip drawn without a caption has the occluder. */
export const OCCLUDER_PROBABILITY = 0.3;

/** Fold a straight path into [lo, hi]: the position of a point reflected by walls at lo and hi. */
export function fold(u: number, lo: number, hi: number): number {
  const span = hi - lo;
  if (span <= 0) return lo;
  let a = (u - lo) % (2 * span);
  if (a < 0) a += 2 * span;
  return lo + (a <= span ? a : 2 * span - a);
}

/** Centre of object `o` at frame t. */
export function positionAt(o: SceneObject, t: number, c: ClipConfig): [number, number] {
  const r = clipGeometry(c).radius;
  return [fold(o.x + o.vx * t, r, c.width - r), fold(o.y + o.vy * t, r, c.height - r)];
}

/** Whether the pixel whose centre is (dx, dy) from a shape's centre is inside the shape of half-size r. */
export function insideShape(shape: Shape, dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      return Math.abs(dx) <= r && Math.abs(dy) <= r;
    case 'triangle':
      // Apex up at dy = −r, base along dy = r, as wide as the square.
      return dy <= r && Math.abs(dx) <= (dy + r) / 2;
  }
}

/** The frame at which a bouncing object first meets a wall (Infinity if it never moves). */
export function firstReflection(o: SceneObject, c: ClipConfig, r: number): number {
  const hit = (p: number, v: number, size: number) => (v > 0 ? (size - r - p) / v : v < 0 ? (p - r) / -v : Infinity);
  return Math.min(hit(o.x, o.vx, c.width), hit(o.y, o.vy, c.height));
}

const uniformIn = (rng: Rng, lo: number, hi: number) => (hi <= lo ? lo : lo + rng.uniform() * (hi - lo));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

/** The objects a caption asks for, or a random set of one to three with distinct colours. */
function drawIntent(rng: Rng, c: ClipConfig): Caption {
  const n = 1 + rng.int(MAX_OBJECTS);
  const colours = [...COLOURS];
  const objects: CaptionObject[] = [];
  for (let i = 0; i < n; i++) {
    const colour = colours.splice(rng.int(colours.length), 1)[0];
    objects.push({ colour, shape: pick(rng, SHAPES), motion: pick(rng, MOTIONS) });
  }
  const occluder = rng.uniform() < OCCLUDER_PROBABILITY && barFits(c);
  // A bar is there to be passed behind: the first object then moves left or right across it.
  if (occluder && !objects.some((o) => o.motion === 'left' || o.motion === 'right')) objects[0].motion = rng.int(2) ? 'right' : 'left';
  return { objects, occluder };
}

/** Start and velocity of one object, before the scene-wide checks. */
function place(rng: Rng, o: CaptionObject, c: ClipConfig, bar: Rect | null, crosses: boolean): SceneObject {
  const g = clipGeometry(c);
  const r = g.radius;
  const s = { ...o, x: uniformIn(rng, r, c.width - r), y: uniformIn(rng, r, c.height - r), vx: 0, vy: 0 };
  if (o.motion === 'bounces') {
    const axes = rng.int(3); // 0: across, 1: up and down, 2: diagonal
    const b = g.bounceSpeed;
    if (axes !== 1) s.vx = rng.int(2) ? b : -b;
    if (axes !== 0) s.vy = rng.int(2) ? b : -b;
    return s;
  }
  const horizontal = o.motion === 'left' || o.motion === 'right';
  const size = horizontal ? c.width : c.height;
  const forward = o.motion === 'right' || o.motion === 'down';
  // The object that crosses the bar goes from wholly clear of it on one side to wholly clear on
  // the other, so it is seen whole before and after; it moves at a speed that covers that distance.
  const crossing = crosses && bar ? bar.x1 - bar.x0 + 2 * (r + CLEARANCE) : 0;
  const fastEnough = g.linearSpeeds.filter((v) => v * (c.frames - 1) >= crossing && (!crosses || !bar || crossesAt(c, v)));
  const speed = pick(rng, fastEnough.length ? fastEnough : g.linearSpeeds.slice(-1));
  const travel = speed * (c.frames - 1);
  let start = forward ? uniformIn(rng, r, size - r - travel) : uniformIn(rng, r + travel, size - r);
  if (crosses && bar) {
    const near = forward ? bar.x0 - r - CLEARANCE : bar.x1 + r + CLEARANCE, far = forward ? bar.x1 + r + CLEARANCE : bar.x0 - r - CLEARANCE;
    const lo = forward ? Math.max(r, far - travel) : Math.max(near, r + travel);
    const hi = forward ? Math.min(near, size - r - travel) : Math.min(far + travel, size - r);
    start = uniformIn(rng, lo, hi);
  }
  if (horizontal) {
    s.x = start;
    s.vx = forward ? speed : -speed;
  } else {
    s.y = start;
    s.vy = forward ? speed : -speed;
  }
  return s;
}

export interface SceneOptions {
  /** The objects and occluder wanted (as parsed from a caption); drawn at random when absent. */
  intent?: Caption;
}

/** Whether a candidate can be read off its pixels (src/data/clips.ts renders it to see). */
export interface SceneChecks {
  /** One object alone with the bar. */
  object: (o: SceneObject, bar: Rect | null) => boolean;
  /** All of them together (they may hide one another). */
  scene: (s: Scene) => boolean;
}

/**
 * Draw a scene: each object is placed until it passes the checks on its own and together with the
 * objects placed before it; if one cannot be placed, the scene starts over. Everything comes from
 * `rng`, so the scene is a function of the stream alone.
 */
export function drawScene(rng: Rng, c: ClipConfig, checks: SceneChecks, o: SceneOptions = {}): Scene {
  const intent = o.intent ?? drawIntent(rng, c);
  if (intent.occluder && !barFits(c)) {
    throw new UsageError(`clips of ${c.frames} frames of ${c.width}×${c.height} are too small for an object to pass behind the bar; ask without 'behind a grey bar'`);
  }
  const g = clipGeometry(c);
  const r = g.radius;
  const crosser = intent.objects.findIndex((q) => q.motion === 'left' || q.motion === 'right');
  for (let attempt = 0; attempt < 1000; attempt++) {
    let occluder: Rect | null = null;
    if (intent.occluder) {
      // Near the middle, up to two pixels either way, but never so near a wall that an object
      // could not be wholly clear of it on that side.
      const mid = Math.round(c.width / 2 - g.occluderWidth / 2);
      const jitter = Math.max(0, Math.min(2, mid - (2 * r + CLEARANCE), c.width - 2 * r - CLEARANCE - g.occluderWidth - mid));
      const x0 = mid + rng.int(2 * jitter + 1) - jitter;
      occluder = { x0, x1: x0 + g.occluderWidth, y0: 0, y1: c.height };
    }
    const objects: SceneObject[] = [];
    for (const [i, q] of intent.objects.entries()) {
      for (let tries = 0; tries < 200; tries++) {
        const s = place(rng, q, c, occluder, i === crosser);
        const crosses = !occluder || i !== crosser || crossesBar(s, c, occluder, r);
        if (!crosses || !sceneObjectFits(s, c, r, occluder) || !checks.object(s, occluder)) continue;
        // Placed one by one, each against those before it (a later object may hide an earlier
        // one, so the check is of them all): a clash redraws one object, not the whole scene.
        if (i > 0 && !checks.scene({ objects: [...objects, s], occluder })) continue;
        objects.push(s);
        break;
      }
      if (objects.length <= i) break;
    }
    if (objects.length === intent.objects.length) return { objects, occluder };
  }
  throw new Error(`no scene for ${JSON.stringify(intent)} fits in ${c.width}×${c.height}×${c.frames}`);
}

/** Whether a left or right mover is wholly clear of the bar on one side at some frame and wholly past it later. */
function crossesBar(s: SceneObject, c: ClipConfig, bar: Rect, r: number): boolean {
  const first = s.x, last = s.x + s.vx * (c.frames - 1);
  return Math.min(first, last) <= bar.x0 - r - CLEARANCE && Math.max(first, last) >= bar.x1 + r + CLEARANCE;
}

/** Cheap checks before rendering: a bouncer reflects with frames on both sides; nothing lives behind the bar. */
function sceneObjectFits(s: SceneObject, c: ClipConfig, r: number, bar: Rect | null): boolean {
  if (s.motion === 'bounces' && c.frames > 1) {
    // Two frames either side of the reflection, one in clips under 6 frames.
    const t = firstReflection(s, c, r), margin = c.frames >= 6 ? 2 : 1;
    if (t < margin || t > c.frames - 1 - margin) return false;
  }
  // An object that never moves across is kept clear of the bar, or it would hide for the whole clip.
  if (bar && s.vx === 0 && !clearOfBar(s.x, r, bar)) return false;
  return true;
}
