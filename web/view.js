// The mapping between world coordinates (the scene's plane, y up) and canvas pixels.

/** Half the side of the world square drawn before a scene arrives; presets live within about [-3, 3]². */
export const WORLD_HALF = 3.6;
/** The smallest half width (and height) a scene is zoomed to, the largest (a side-by-side scene spans about ±5.5),
 * and the margin kept around its points. */
const MIN_HALF = 1.5;
const MAX_HALF = 7;
const MARGIN = 1.15;

/** The world square around the origin. */
export const WORLD_FRAME = Object.freeze({ halfX: WORLD_HALF, halfY: WORLD_HALF, center: [0, 0] });

/**
 * The rectangle that shows every point with a margin, centred on them (so a small scene is drawn large, and a wide
 * one fits a square phone canvas): `halfX`, `halfY` its half width and height, `center` its centre, in world units
 * rounded to 1/4.
 */
export function fitFrame(points) {
  if (!points.length) return WORLD_FRAME;
  const quarter = (v) => Math.round(v * 4) / 4;
  const span = (values) => {
    const [low, high] = [Math.min(...values), Math.max(...values)];
    const center = quarter((low + high) / 2);
    const extent = Math.max(high - center, center - low);
    return [center, Math.min(MAX_HALF, Math.max(MIN_HALF, Math.ceil(extent * MARGIN * 4) / 4))];
  };
  const [cx, halfX] = span(points.map((p) => p[0]));
  const [cy, halfY] = span(points.map((p) => p[1]));
  return { halfX, halfY, center: [cx, cy] };
}

export class View {
  /**
   * @param {number} width canvas width in device pixels
   * @param {number} height canvas height in device pixels
   * @param {number} dpr device pixels per CSS pixel
   * @param {{halfX: number, halfY: number, center: number[]}} frame the world rectangle kept in view
   */
  constructor(width, height, dpr, frame = WORLD_FRAME) {
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    /** device pixels per world unit */
    this.scale = Math.min(width / frame.halfX, height / frame.halfY) / 2;
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
