// The mapping between world coordinates (the scene's plane, y up) and canvas pixels.

/** Half the side of the world square always kept in view; presets live within about [-3, 3]². */
export const WORLD_HALF = 3.6;

export class View {
  /**
   * @param {number} width canvas width in device pixels
   * @param {number} height canvas height in device pixels
   * @param {number} dpr device pixels per CSS pixel
   */
  constructor(width, height, dpr) {
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    /** device pixels per world unit */
    this.scale = Math.min(width, height) / (2 * WORLD_HALF);
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
