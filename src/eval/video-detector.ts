// The quality of a generated clip, measured: read the frames with the generator's palette and say,
// for each object its caption asks for, whether an object of that colour and shape is there, whether
// it moves the captioned way, whether its path obeys the world's physics (straight at constant
// speed, reflected at the walls), and whether it comes out from behind the grey bar it went behind.
//
// Frames are float32 [T, H, W, 3] in [−1, 1], as src/data/clips.ts writes them and a model samples
// them. Objects are found by colour (the generator never paints two objects alike), so a clip's
// objects are read independently of one another. The detector scores the generator's own clips
// perfectly and corrupted ones (frames shuffled, colours changed, motion frozen) poorly; see
// test/video-detector.test.ts.
import { parseCaption, writeCaption, type Caption } from '../data/clip-caption.js';
import { clipGeometry, type ClipConfig, type Colour, type Motion, type Shape } from '../data/clip-world.js';
import type { Rect } from '../data/clip-scene.js';
import { classifyShape, findOccluder, labelFrames, labelOf, largestBlob, type Blob } from './video-blobs.js';
import { fitPhysics, movesAsCaptioned, permanence, physicallyConsistent, type Track } from './video-track.js';

export interface ObjectReading {
  colour: Colour;
  shape: Shape;
  motion: Motion;
  /** A blob of the colour, as large as an object, in at least a quarter of the frames. */
  present: boolean;
  /** The shape most of its whole-object frames look like (null when never seen whole). */
  shapeSeen: Shape | null;
  /** Moves the captioned way (false when absent; null for a one-frame clip). */
  direction: boolean | null;
  /** RMS distance (pixels) from the best physical path, and whether that is within tolerance and moving. */
  physicsRms: number | null;
  physics: boolean | null;
  /** Comes out from behind the bar (null when it never goes behind it, or the clip ends first). */
  permanence: boolean | null;
  track: Track;
}

/**
 * The version of the reading rules, part of every stored eval-video result's task version: bump it
 * whenever a change here, in video-blobs.ts or in video-track.ts can change a clip's score, so that
 * scores read by an older detector are neither resumed into nor compared with newer ones.
 */
export const VIDEO_DETECTOR_VERSION = 1;

/**
 * The smallest clip side the detector reads honestly. Below it objects have radius 2 (4×4 pixels,
 * clip-world.ts), and clusters of noise of one palette colour are as large: pure Gaussian noise
 * (σ 1, clipped to [−1, 1]) on the eval prompts scores colour 0.69 at 8×16×16 and 0.61 at
 * 16×16×16, direction 0.11 and 0.08, above the chance of a caption ignored (0.40, 0.09); at 24
 * pixels and above it scores colour 0.02 or less and 0 on the rest (test/video-detector.test.ts).
 */
export const DETECTOR_MIN_SIDE = 24;

/** One line saying why scores of clips this small overstate quality, or null at DETECTOR_MIN_SIDE and above. */
export function detectorSizeWarning(c: ClipConfig): string | null {
  const side = Math.min(c.height, c.width);
  if (side >= DETECTOR_MIN_SIDE) return null;
  return `${c.frames}×${c.height}×${c.width} clips are below the detector's ${DETECTOR_MIN_SIDE} pixels a side: ` +
    `at this size it reads noise as objects (pure noise scores colour about 0.6, above chance), so the scores overstate quality`;
}

export const VIDEO_METRICS = ['colour', 'object', 'direction', 'adherence', 'physics', 'permanence'] as const;
export type VideoMetric = (typeof VIDEO_METRICS)[number];

export interface VideoReading {
  caption: string;
  objects: ObjectReading[];
  /** The caption asks for the bar, and whether one is seen. */
  occluder: { asked: boolean; seen: boolean };
  /**
   * Per clip: colour, the share of captioned objects whose colour is present; object, with the right
   * shape too; direction, moving the captioned way; adherence, 1 when every object is right in
   * colour, shape and direction and the bar is there exactly when asked; physics and permanence,
   * the share of the objects they could judge (null when none).
   */
  scores: Record<VideoMetric, number | null>;
}

/** Of its largest area, what a blob must keep to count as the object in view, or as all of it. */
const SEEN_SHARE = 0.5;
const WHOLE_SHARE = 0.7;
/** A present object is seen in at least this share of the frames. */
const PRESENT_FRAMES = 0.25;

/** Read one clip against a caption (text or already parsed). */
export function readClip(frames: Float32Array, c: ClipConfig, caption: string | Caption): VideoReading {
  const intent = typeof caption === 'string' ? parseCaption(caption) : caption;
  const labels = labelFrames(frames, c);
  const bar = findOccluder(labels, c);
  const r = clipGeometry(c).radius;
  // The smallest object this world draws is a triangle of about 2r² pixels; a blob under 40% of
  // that is a smudge, not an object.
  const minArea = Math.max(4, 0.8 * r * r);
  const objects = intent.objects.map((o): ObjectReading => {
    const blobs: (Blob | null)[] = [];
    for (let t = 0; t < c.frames; t++) blobs.push(largestBlob(labels, t, labelOf(o.colour), c));
    const biggest = Math.max(0, ...blobs.map((b) => b?.area ?? 0));
    const track: Track = blobs.map((b) => {
      if (!b || b.area < minArea || b.area < SEEN_SHARE * biggest) return null;
      const whole = b.area >= WHOLE_SHARE * biggest && !(bar && touches(b.box, bar));
      return { x: b.x, y: b.y, area: b.area, halfW: (b.box.x1 - b.box.x0) / 2, halfH: (b.box.y1 - b.box.y0) / 2, whole };
    });
    const seenFrames = track.filter((p) => p !== null).length;
    const present = seenFrames > 0 && seenFrames >= PRESENT_FRAMES * c.frames;
    const votes = new Map<Shape, number>();
    blobs.forEach((b, t) => {
      if (b && track[t]?.whole) votes.set(classifyShape(b), (votes.get(classifyShape(b)) ?? 0) + 1);
    });
    const shapeSeen = present && votes.size ? [...votes].sort((a, b) => b[1] - a[1])[0][0] : null;
    const fit = present ? fitPhysics(track, c) : null;
    return {
      ...o,
      present,
      shapeSeen,
      direction: c.frames < 2 ? null : present ? movesAsCaptioned(track, o.motion, c) : false,
      physicsRms: fit ? fit.rms : null,
      physics: physicallyConsistent(fit),
      permanence: present ? permanence(track, bar, c) : null,
      track,
    };
  });
  const mean = (xs: (boolean | null)[]) => {
    const known = xs.filter((x): x is boolean => x !== null);
    return known.length ? known.filter(Boolean).length / known.length : null;
  };
  const occluder = { asked: intent.occluder, seen: bar !== null };
  const right = objects.map((o) => o.present && o.shapeSeen === o.shape && o.direction !== false);
  return {
    caption: typeof caption === 'string' ? caption : writeCaption(caption),
    objects,
    occluder,
    scores: {
      colour: mean(objects.map((o) => o.present)),
      object: mean(objects.map((o) => o.present && o.shapeSeen === o.shape)),
      direction: c.frames < 2 ? null : mean(objects.map((o) => o.direction)),
      adherence: right.every(Boolean) && occluder.asked === occluder.seen ? 1 : 0,
      physics: mean(objects.map((o) => o.physics)),
      permanence: mean(objects.map((o) => o.permanence)),
    },
  };
}

/** Boxes that overlap or share an edge (a box that ends where the bar starts may go on behind it). */
function touches(a: Rect, b: Rect): boolean {
  return a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;
}
