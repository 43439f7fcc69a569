// The mapping between world coordinates (the scene's plane, y up) and canvas pixels.

/** Half the side of the largest world square kept in view; presets live within about [-3, 3]². */
export const WORLD_HALF = 3.6;
/** The smallest half side a scene is zoomed to, and the margin kept around its points. */
const MIN_HALF = 1.5;
const MARGIN = 1.15;

/** Half the side of the square that shows every point with a margin (so a small scene is drawn large). */
export function fitHalf(points) {
  let extent = 0;
  for (const [x, y] of points) extent = Math.max(extent, Math.abs(x), Math.abs(y));
  return Math.min(WORLD_HALF, Math.max(MIN_HALF, Math.ceil(extent * MARGIN * 4) / 4));
}

export class View {
  /**
   * @param {number} width canvas width in device pixels
   * @param {number} height canvas height in device pixels
   * @param {number} dpr device pixels per CSS pixel
   * @param {number} half half the side of the world square kept in view
   */
  constructor(width, height, dpr, half = WORLD_HALF) {
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    /** device pixels per world unit */
    this.scale = Math.min(width, height) / (2 * half);
    this.cx = width / 2;
    this.cy = height / 2;
  }

  /** World x to device pixels. */
  px(x) {
    return this.cx + x * this.scale;
  }

  /** World y to device pixels (y grows upward in the world). */
  py(y) {
    return this.cy - y * this.scale;
  }

  /** CSS pixels relative to the canvas to world coordinates. */
  toWorld(cssX, cssY) {
    return [(cssX * this.dpr - this.cx) / this.scale, (this.cy - cssY * this.dpr) / this.scale];
  }

  /** World to CSS pixels relative to the canvas. */
  toCss(x, y) {
    return [this.px(x) / this.dpr, this.py(y) / this.dpr];
  }

  /** The world rectangle visible on the canvas: [xmin, xmax, ymin, ymax]. */
  bounds() {
    const hx = this.cx / this.scale;
    const hy = this.cy / this.scale;
    return [-hx, hx, -hy, hy];
  }
}
