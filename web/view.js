// The mapping between world coordinates (the scene's plane, y up) and canvas pixels.

/** Half the side of the largest world square kept in view; presets live within about [-3, 3]². */
export const WORLD_HALF = 3.6;
/** The smallest half side a scene is zoomed to, and the margin kept around its points. */
const MIN_HALF = 1.5;
const MARGIN = 1.15;

/** The whole world square around the origin. */
export const WORLD_FRAME = Object.freeze({ half: WORLD_HALF, center: [0, 0] });

/**
 * The square that shows every point with a margin, centred on them (so a small scene is drawn large):
 * `half` its half side, `center` its centre, both in world units rounded to 1/4.
 */
export function fitFrame(points) {
  if (!points.length) return WORLD_FRAME;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const quarter = (v) => Math.round(v * 4) / 4;
  const center = [quarter((Math.min(...xs) + Math.max(...xs)) / 2), quarter((Math.min(...ys) + Math.max(...ys)) / 2)];
  let extent = 0;
  for (const [x, y] of points) extent = Math.max(extent, Math.abs(x - center[0]), Math.abs(y - center[1]));
  const half = Math.min(WORLD_HALF, Math.max(MIN_HALF, Math.ceil(extent * MARGIN * 4) / 4));
  return { half, center };
}

export class View {
  /**
   * @param {number} width canvas width in device pixels
   * @param {number} height canvas height in device pixels
   * @param {number} dpr device pixels per CSS pixel
   * @param {{half: number, center: number[]}} frame the world square kept in view
   */
  constructor(width, height, dpr, frame = WORLD_FRAME) {
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    /** device pixels per world unit */
    this.scale = Math.min(width, height) / (2 * frame.half);
    [this.ox, this.oy] = frame.center;
    this.cx = width / 2;
    this.cy = height / 2;
  }

  /** World x to device pixels. */
  px(x) {
    return this.cx + (x - this.ox) * this.scale;
  }

  /** World y to device pixels (y grows upward in the world). */
  py(y) {
    return this.cy - (y - this.oy) * this.scale;
  }

  /** CSS pixels relative to the canvas to world coordinates. */
  toWorld(cssX, cssY) {
    return [(cssX * this.dpr - this.cx) / this.scale + this.ox, (this.cy - cssY * this.dpr) / this.scale + this.oy];
  }

  /** World to CSS pixels relative to the canvas. */
  toCss(x, y) {
    return [this.px(x) / this.dpr, this.py(y) / this.dpr];
  }

  /** The world rectangle visible on the canvas: [xmin, xmax, ymin, ymax]. */
  bounds() {
    const hx = this.cx / this.scale;
    const hy = this.cy / this.scale;
    return [this.ox - hx, this.ox + hx, this.oy - hy, this.oy + hy];
  }
}
