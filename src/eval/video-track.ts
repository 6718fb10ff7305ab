// Judging one object's track (its blob's centre per frame) against what the caption and the
// world's physics say: did it move the captioned way, is the path straight at constant speed and
// reflected at the walls, and does it come out from behind the bar. Pure functions of the track.
import type { Rect } from '../data/clip-scene.js';
import { clipGeometry, type ClipConfig, type Motion } from '../data/clip-world.js';

/** One object's blob per frame; null where the object is not seen. */
export interface TrackPoint {
  x: number;
  y: number;
  area: number;
  /** Half the bounding box's width and height. */
  halfW: number;
  halfH: number;
  /** The whole object is in view: its area is near its largest and it is clear of the bar. */
  whole: boolean;
}
export type Track = (TrackPoint | null)[];

const wholeFrames = (track: Track) => track.flatMap((p, t) => (p && p.whole ? [{ t, p }] : []));

/** Does the track move the captioned way? null when the clip has a single frame. */
export function movesAsCaptioned(track: Track, motion: Motion, c: ClipConfig): boolean | null {
  if (c.frames < 2) return null;
  const pts = wholeFrames(track);
  if (pts.length < 2) return false;
  if (motion === 'bounces') return reversesAtWall(pts, 'x', c.width) || reversesAtWall(pts, 'y', c.height);
  const g = clipGeometry(c);
  const horizontal = motion === 'left' || motion === 'right';
  const along = (p: TrackPoint) => (horizontal ? p.x : p.y), across = (p: TrackPoint) => (horizontal ? p.y : p.x);
  const first = pts[0].p, last = pts[pts.length - 1].p;
  const d = along(last) - along(first), side = across(last) - across(first);
  const sign = motion === 'right' || motion === 'down' ? 1 : -1;
  // At least a quarter of the slowest mover's travel; mostly along the axis; and no turning back
  // (the positions span little more than the net displacement).
  const minTravel = Math.max(2, 0.25 * Math.min(...g.linearSpeeds) * (c.frames - 1));
  const values = pts.map(({ p }) => along(p));
  const span = Math.max(...values) - Math.min(...values);
  return sign * d >= minTravel && Math.abs(d) >= 2 * Math.abs(side) && span <= Math.abs(d) + 2;
}

/** How close to a wall (pixels between the object's edge and the frame's edge) a reflection must be. */
const WALL_TOLERANCE = 2;

/** A position next to a wall with positions further from it on both sides, within three frames. */
function reversesAtWall(pts: { t: number; p: TrackPoint }[], axis: 'x' | 'y', size: number): boolean {
  const pos = (p: TrackPoint) => p[axis], half = (p: TrackPoint) => (axis === 'x' ? p.halfW : p.halfH);
  for (let k = 0; k < pts.length; k++) {
    const { t, p } = pts[k];
    const lowWall = pos(p) - half(p) <= WALL_TOLERANCE, highWall = pos(p) + half(p) >= size - WALL_TOLERANCE;
    if (!lowWall && !highWall) continue;
    const away = (q: TrackPoint) => (lowWall ? pos(q) - pos(p) : pos(p) - pos(q)) >= 1;
    const before = pts.some((o) => o.t < t && o.t >= t - 3 && away(o.p));
    const after = pts.some((o) => o.t > t && o.t <= t + 3 && away(o.p));
    if (before && after) return true;
  }
  return false;
}

export interface PhysicsFit {
  /** Root mean square distance (pixels) of the whole-object positions from the best path. */
  rms: number;
  /** The best path's speed along x and y, pixels per frame. */
  vx: number;
  vy: number;
}

/** Fewest whole-object frames a path is fitted to. */
export const MIN_FIT_FRAMES = 4;

/**
 * The best path of this world's physics through the track: per axis, a straight line at constant
 * speed folded into the walls, fold(u0 + v·t, h, size − h) with h the object's half size. A grid
 * over (u0, v), then a finer grid around the best; v ≥ 0 and u0 over two wall spans cover both
 * directions. null with fewer than MIN_FIT_FRAMES whole frames.
 */
export function fitPhysics(track: Track, c: ClipConfig): PhysicsFit | null {
  const pts = wholeFrames(track);
  if (pts.length < MIN_FIT_FRAMES) return null;
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // Short clips move their linear movers faster (clipGeometry); the grid reaches the fastest.
  const g = clipGeometry(c);
  const vmax = Math.max(2 * g.bounceSpeed, ...g.linearSpeeds);
  const ts = pts.map((q) => q.t);
  const x = fitAxis(ts, pts.map((q) => q.p.x), median(pts.map((q) => q.p.halfW)), c.width, vmax);
  const y = fitAxis(ts, pts.map((q) => q.p.y), median(pts.map((q) => q.p.halfH)), c.height, vmax);
  return { rms: Math.sqrt((x.sse + y.sse) / pts.length), vx: x.v, vy: y.v };
}

function fitAxis(ts: number[], ps: number[], half: number, size: number, vmax: number): { sse: number; v: number } {
  const sse = (u0: number, v: number, lo: number, hi: number) => {
    const span = hi - lo;
    let s = 0;
    for (let i = 0; i < ts.length; i++) {
      // fold(u0 + v·t, lo, hi), inlined: this loop is most of the detector's time.
      let a = (u0 + v * ts[i] - lo) % (2 * span);
      if (a < 0) a += 2 * span;
      s += (lo + (a <= span ? a : 2 * span - a) - ps[i]) ** 2;
    }
    return s;
  };
  // Coarse grid at the measured half size, then a finer one around the best for each of three
  // half sizes: the measured one is within half a pixel of the drawn one (boxes snap to pixels).
  let u = half, v = 0, e = Infinity;
  const span = size - 2 * half;
  if (span <= 0) return { sse: Infinity, v: 0 };
  for (let vi = 0; vi <= vmax + 1e-9; vi += 0.1) {
    for (let ui = half; ui < half + 2 * span; ui += 0.5) {
      const s = sse(ui, vi, half, size - half);
      if (s < e) { e = s; u = ui; v = vi; }
    }
  }
  let best = { sse: Infinity, v: 0 };
  for (const h of [half - 0.5, half, half + 0.5]) {
    if (size - 2 * h <= 0) continue;
    let bv = v, be = sse(u, v, h, size - h);
    for (let dv = -0.1; dv <= 0.1 + 1e-9; dv += 0.01) {
      for (let du = -0.5; du <= 0.5 + 1e-9; du += 0.05) {
        if (v + dv < 0) continue;
        const s = sse(u + du, v + dv, h, size - h);
        if (s < be) { be = s; bv = v + dv; }
      }
    }
    if (be < best.sse) best = { sse: be, v: bv };
  }
  return best;
}

/** Largest RMS distance from the fitted path of a physically consistent track (the box snaps to whole pixels). */
export const PHYSICS_TOLERANCE = 0.75;
/** Every object of this world moves; one that stands still is not moving as the world's physics says. */
export const MIN_MOVING_SPEED = 0.5;

/** Physically consistent: a fitted path within tolerance that moves. null when too few frames to fit. */
export function physicallyConsistent(fit: PhysicsFit | null): boolean | null {
  if (!fit) return null;
  return fit.rms <= PHYSICS_TOLERANCE && Math.max(fit.vx, fit.vy) >= MIN_MOVING_SPEED;
}

/** Most recent frames a speed before the bar is measured over. */
const SPEED_FRAMES = 4;

/**
 * Speed along the bar's normal before frame t, at its lowest: a box snaps to whole pixels, so each
 * end of the measurement may be off by half a pixel, and a pixel is taken off the distance. Over
 * the last SPEED_FRAMES whole frames (a partly hidden object's box moves slower than the object),
 * else the last seen ones; 0 with fewer than two.
 */
function speedBefore(track: Track, t: number, pos: (p: TrackPoint) => number): number {
  for (const whole of [true, false]) {
    const ks: number[] = [];
    for (let j = t - 1; j >= 0 && ks.length < SPEED_FRAMES; j--) if (track[j] && (!whole || track[j]!.whole)) ks.push(j);
    const [last, first] = [ks[0], ks[ks.length - 1]];
    if (ks.length >= 2) return Math.max(0, Math.abs(pos(track[last]!) - pos(track[first]!)) - 1) / (last - first);
  }
  return 0;
}

/**
 * Object permanence: each time the object goes out of sight right beside the bar, heading for it,
 * it must come out on the far side within the frames its speed needs to cross it (the bar's width
 * at the lowest speed it can have gone in with, but at least the world's slowest speed, plus a
 * frame of slack). true if every such passage does; false if one does not (it comes back on the
 * same side, or not at all though the clip lasted long enough); null when nothing goes behind the
 * bar, or the clip ends before the object was due.
 */
export function permanence(track: Track, bar: Rect | null, c: ClipConfig): boolean | null {
  if (!bar || c.frames < 3) return null;
  const vertical = bar.y1 - bar.y0 >= bar.x1 - bar.x0;
  const pos = (p: TrackPoint) => (vertical ? p.x : p.y);
  const half = (p: TrackPoint) => (vertical ? p.halfW : p.halfH);
  const [b0, b1] = vertical ? [bar.x0, bar.x1] : [bar.y0, bar.y1];
  const middle = (b0 + b1) / 2;
  let verdict: boolean | null = null;
  for (let t = 1; t < c.frames; t++) {
    const before = track[t - 1];
    if (track[t] !== null || before === null) continue;
    // Gone out of sight: beside the bar (its box within a pixel of it), and heading for it (the
    // last place it was seen elsewhere is further from the bar)? One that moved along or away
    // from the bar, or never moved, was hidden by something else for all anyone can tell (another
    // object can cover one beside the bar).
    if (pos(before) + half(before) < b0 - 1 || pos(before) - half(before) > b1 + 1) continue;
    let earlier = t - 2;
    while (earlier >= 0 && (track[earlier] === null || pos(track[earlier]!) === pos(before))) earlier--;
    if (earlier < 0 || Math.abs(pos(before) - middle) >= Math.abs(pos(track[earlier]!) - middle)) continue;
    // No object of this world moves slower than its slowest linear speed; a box that snaps to
    // pixels can make one look slower, so that is the floor.
    const speed = Math.max(Math.min(...clipGeometry(c).linearSpeeds), speedBefore(track, t, pos));
    const due = t - 1 + Math.ceil((b1 - b0) / speed) + 1;
    let back = -1;
    for (let s = t + 1; s < c.frames; s++) if (track[s]) { back = s; break; }
    let ok: boolean | null;
    if (back < 0 || back > due) ok = due < c.frames ? false : null;
    else ok = Math.sign(pos(track[back]!) - middle) !== Math.sign(pos(before) - middle);
    if (ok === false) return false;
    if (ok === true) verdict = true;
    if (back < 0) break;
    t = back;
  }
  return verdict;
}
