// Drawing of the scene on the 2D overlay canvas: field, pairing lines, trajectories, samples, endpoints and
// the points moving along the trajectories at the current t.

import { emptyFlow, setTrajectoryPoint, trajectoryOf, trajectoryPoint } from "./trajectories.js";

/** Okabe–Ito colors (color-blind safe). */
export const COLORS = Object.freeze({
  noise: "#0072B2",
  data: "#E69F00",
  endpoint: "#D55E00",
  newPair: "#009E73",
  pair: "rgba(110, 110, 110, 0.6)",
  /** the pairing lines under drawn paths: there they are the background the paths are read against */
  pairUnder: "rgba(110, 110, 110, 0.28)",
  field: "rgba(0, 158, 115, 0.35)",
  moving: "#111111",
  highlight: "#CC79A7",
});

/** Canvases under this side (CSS px) draw dots smaller, down to SMALLEST_DOTS of their size. */
const FULL_DOTS_SIDE = 440;
const SMALLEST_DOTS = 0.7;
/** The traced paths' colour at t = 0 (sky blue) and t = 1 (the data's orange), their opacity, and the fewest
 * colour bands a path is drawn in. */
const PATH_FROM = [86, 180, 233];
const PATH_TO = [230, 159, 0];
const PATH_ALPHA = 0.7;
const PATH_BANDS = 8;
/** The paths' colours as a CSS background (the legend's swatch). */
export const PATH_GRADIENT = `linear-gradient(90deg, rgb(${PATH_FROM}), rgb(${PATH_TO}))`;

/**
 * Trajectories of the scene's samples as sent by the server; read and written through trajectories.js.
 * @typedef {{points: Float32Array, steps: number, n: number, times: Float32Array}} Flow
 *   points: (steps + 1) × n × 2 positions, row-major, on the time grid `times` (steps + 1 values).
 */

/** Scratch pairs for reading a path's two ends in the drawing loops (no allocation per point). */
const END_A = [0, 0];
const END_B = [0, 0];

/** Position of sample i at time t along the traced trajectory (linear between grid times). */
export function positionAt(flow, i, t) {
  const { steps, times } = flow;
  let k = 0;
  while (k < steps - 1 && times[k + 1] < t) k++;
  const span = times[k + 1] - times[k];
  const s = span > 0 ? Math.min(1, Math.max(0, (t - times[k]) / span)) : 0;
  const [ax, ay] = trajectoryPoint(flow, k, i, END_A);
  const [bx, by] = trajectoryPoint(flow, k + 1, i, END_B);
  return [ax + s * (bx - ax), ay + s * (by - ay)];
}

/** The random pairing's own paths: straight lines x_t = (1 − t)·x0 + t·x1 (what 1-RF is trained on). */
export function straightFlow(x0, x1) {
  const flow = emptyFlow(x0.length, new Float32Array([0, 1]));
  x0.forEach(([x, y], i) => setTrajectoryPoint(flow, 0, i, x, y));
  x1.forEach(([x, y], i) => setTrajectoryPoint(flow, 1, i, x, y));
  return flow;
}

function dot(ctx, view, p, radius, fill, stroke) {
  ctx.beginPath();
  ctx.arc(view.px(p[0]), view.py(p[1]), radius, 0, 2 * Math.PI);
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fill();
  }
  if (stroke) {
    ctx.strokeStyle = stroke;
    ctx.stroke();
  }
}

function segment(ctx, view, a, b) {
  ctx.moveTo(view.px(a[0]), view.py(a[1]));
  ctx.lineTo(view.px(b[0]), view.py(b[1]));
}

/**
 * The velocity field on a regular grid at the current t.
 * @typedef {{nx: number, ny: number, bounds: number[], v: Float32Array}} Field
 *   v holds (vx, vy) for grid point (ix, iy) at 2 · (iy · nx + ix); bounds is [xmin, xmax, ymin, ymax].
 */

function fieldAt(field, x, y) {
  const [x0, x1, y0, y1] = field.bounds;
  const fx = ((x - x0) / (x1 - x0)) * (field.nx - 1);
  const fy = ((y - y0) / (y1 - y0)) * (field.ny - 1);
  if (fx < 0 || fy < 0 || fx > field.nx - 1 || fy > field.ny - 1) return null;
  const ix = Math.min(field.nx - 2, Math.floor(fx));
  const iy = Math.min(field.ny - 2, Math.floor(fy));
  const sx = fx - ix;
  const sy = fy - iy;
  const at = (i, j, c) => field.v[2 * (j * field.nx + i) + c];
  const lerp = (c) =>
    (1 - sy) * ((1 - sx) * at(ix, iy, c) + sx * at(ix + 1, iy, c)) + sy * ((1 - sx) * at(ix, iy + 1, c) + sx * at(ix + 1, iy + 1, c));
  return [lerp(0), lerp(1)];
}

function drawArrows(ctx, view, field) {
  const [x0, x1, y0, y1] = field.bounds;
  const cell = Math.min((x1 - x0) / (field.nx - 1), (y1 - y0) / (field.ny - 1));
  let vmax = 1e-6;
  for (let i = 0; i < field.v.length; i += 2) vmax = Math.max(vmax, Math.hypot(field.v[i], field.v[i + 1]));
  const unit = (0.9 * cell) / vmax;
  ctx.strokeStyle = COLORS.field;
  ctx.lineWidth = view.dpr;
  ctx.beginPath();
  for (let iy = 0; iy < field.ny; iy++) {
    for (let ix = 0; ix < field.nx; ix++) {
      const x = x0 + (ix / (field.nx - 1)) * (x1 - x0);
      const y = y0 + (iy / (field.ny - 1)) * (y1 - y0);
      const vx = field.v[2 * (iy * field.nx + ix)] * unit;
      const vy = field.v[2 * (iy * field.nx + ix) + 1] * unit;
      const ax = view.px(x);
      const ay = view.py(y);
      const bx = view.px(x + vx);
      const by = view.py(y + vy);
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      const len = Math.hypot(bx - ax, by - ay);
      if (len > 3 * view.dpr) {
        const ux = (bx - ax) / len;
        const uy = (by - ay) / len;
        const head = Math.min(4 * view.dpr, len / 2);
        ctx.moveTo(bx, by);
        ctx.lineTo(bx - head * (ux - 0.5 * uy), by - head * (uy + 0.5 * ux));
        ctx.moveTo(bx, by);
        ctx.lineTo(bx - head * (ux + 0.5 * uy), by - head * (uy - 0.5 * ux));
      }
    }
  }
  ctx.stroke();
}

function drawStreamlines(ctx, view, field) {
  const [x0, x1, y0, y1] = field.bounds;
  const seeds = 14;
  const h = (Math.min(x1 - x0, y1 - y0) / seeds) * 0.12;
  ctx.strokeStyle = COLORS.field;
  ctx.lineWidth = view.dpr;
  ctx.beginPath();
  for (let sy = 0; sy < seeds; sy++) {
    for (let sx = 0; sx < seeds; sx++) {
      let x = x0 + ((sx + 0.5) / seeds) * (x1 - x0);
      let y = y0 + ((sy + 0.5) / seeds) * (y1 - y0);
      ctx.moveTo(view.px(x), view.py(y));
      for (let k = 0; k < 24; k++) {
        const v = fieldAt(field, x, y);
        if (!v) break;
        const speed = Math.hypot(v[0], v[1]);
        if (speed < 1e-6) break;
        x += (h * v[0]) / speed;
        y += (h * v[1]) / speed;
        ctx.lineTo(view.px(x), view.py(y));
      }
    }
  }
  ctx.stroke();
}

/**
 * Draw the whole overlay.
 * @param {CanvasRenderingContext2D} ctx
 * @param {import("./view.js").View} view
 * @param {{x0: number[][], x1: number[][], view: {t: number, field: string, layers: Record<string, boolean>}}} state
 * @param {Flow | null} flow trajectories matching the current points, if any
 * @param {Field | null} field
 * @param {{cloud: string, index: number, dragged?: boolean} | null} highlight the point under the pointer or
 *   being dragged; a dragged one's pair has its pairing line (dashed) and path drawn over the others
 */
export function drawScene(ctx, view, state, flow, field, highlight) {
  const { layers, t } = state.view;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, view.width, view.height);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  const usable = flow && flow.n === state.x0.length;
  // view.marks: presenter mode draws lines that much thicker, and dots by its square root (so they stay apart);
  // on a small canvas (a phone) dots shrink a little with it
  const m = view.marks ?? 1;
  const side = Math.min(view.width, view.height) / view.dpr;
  const r = 6 * view.dpr * Math.sqrt(m) * Math.min(1, Math.max(SMALLEST_DOTS, side / FULL_DOTS_SIDE));
  const pathsDrawn = usable && layers.trajectories;

  if (field && state.view.field === "arrows") drawArrows(ctx, view, field);
  if (field && state.view.field === "streamlines") drawStreamlines(ctx, view, field);

  if (layers.pairs) {
    ctx.strokeStyle = pathsDrawn ? COLORS.pairUnder : COLORS.pair;
    ctx.lineWidth = view.dpr * m;
    ctx.beginPath();
    for (let i = 0; i < state.x0.length; i++) segment(ctx, view, state.x0[i], state.x1[i]);
    ctx.stroke();
  }

  if (usable && layers.newPairs) {
    ctx.strokeStyle = COLORS.newPair;
    ctx.lineWidth = 1.5 * view.dpr * m;
    ctx.setLineDash([4 * view.dpr, 4 * view.dpr]);
    ctx.beginPath();
    for (let i = 0; i < flow.n; i++) segment(ctx, view, state.x0[i], positionAt(flow, i, 1));
    ctx.stroke();
    ctx.setLineDash([]);
  }

  if (pathsDrawn) drawPaths(ctx, view, flow, 2 * view.dpr * m);

  if (highlight?.dragged && state.x0[highlight.index] && state.x1[highlight.index]) {
    drawDraggedPair(ctx, view, state, usable ? flow : null, highlight.index);
  }

  if (layers.samples) {
    ctx.lineWidth = view.dpr * m;
    for (const p of state.x1) dot(ctx, view, p, r, COLORS.data, "white");
    for (const p of state.x0) dot(ctx, view, p, r, COLORS.noise, "white");
  }

  if (usable && layers.endpoints) {
    ctx.lineWidth = 1.5 * view.dpr * m;
    for (let i = 0; i < flow.n; i++) dot(ctx, view, positionAt(flow, i, 1), r * 0.8, null, COLORS.endpoint);
  }

  if (usable && layers.moving) {
    ctx.lineWidth = view.dpr;
    for (let i = 0; i < flow.n; i++) dot(ctx, view, positionAt(flow, i, t), r * 0.6, COLORS.moving, "white");
  }

  if (highlight && state[highlight.cloud]?.[highlight.index]) {
    ctx.lineWidth = 2 * view.dpr;
    dot(ctx, view, state[highlight.cloud][highlight.index], r * 2, null, COLORS.highlight);
  }
}

/**
 * Every traced path, coloured along its time from sky blue (t = 0) to the data's orange (t = 1), so a path reads
 * as noise turning into data. One stroke per colour band: a solver step, cut into pieces when the steps are few
 * (the random pairing's straight paths are one step).
 */
function drawPaths(ctx, view, flow, width) {
  const pieces = Math.ceil(PATH_BANDS / flow.steps);
  ctx.lineWidth = width;
  ctx.lineCap = "butt"; // round caps would overlap at every joint and bead the translucent line
  for (let k = 0; k < flow.steps; k++) {
    for (let piece = 0; piece < pieces; piece++) {
      const [u, v] = [piece / pieces, (piece + 1) / pieces];
      const s = flow.times[k] + ((u + v) / 2) * (flow.times[k + 1] - flow.times[k]);
      const [r, g, b] = PATH_FROM.map((c, j) => Math.round(c + s * (PATH_TO[j] - c)));
      ctx.strokeStyle = `rgba(${r}, ${g}, ${b}, ${PATH_ALPHA})`;
      ctx.beginPath();
      for (let i = 0; i < flow.n; i++) {
        const [ax, ay] = trajectoryPoint(flow, k, i, END_A);
        const [bx, by] = trajectoryPoint(flow, k + 1, i, END_B);
        ctx.moveTo(view.px(ax + u * (bx - ax)), view.py(ay + u * (by - ay)));
        ctx.lineTo(view.px(ax + v * (bx - ax)), view.py(ay + v * (by - ay)));
      }
      ctx.stroke();
    }
  }
  ctx.lineCap = "round";
}

/** The dragged pair i: its pairing line x0 → x1 dashed, and its traced path, thick, in the highlight colour. */
function drawDraggedPair(ctx, view, state, flow, i) {
  ctx.strokeStyle = COLORS.highlight;
  ctx.lineWidth = 2.5 * view.dpr;
  ctx.setLineDash([6 * view.dpr, 4 * view.dpr]);
  ctx.beginPath();
  segment(ctx, view, state.x0[i], state.x1[i]);
  ctx.stroke();
  ctx.setLineDash([]);
  if (!flow) return;
  ctx.lineWidth = 3.5 * view.dpr;
  ctx.beginPath();
  trajectoryOf(flow, i).forEach(([x, y], k) => (k === 0 ? ctx.moveTo(view.px(x), view.py(y)) : ctx.lineTo(view.px(x), view.py(y))));
  ctx.stroke();
}

/** Okabe–Ito blue at t = 0 to orange at t = 1, as [r, g, b] in 0…255. */
export function particleRgb(t) {
  const s = Math.min(1, Math.max(0, t));
  return [Math.round(s * 230), Math.round(114 + s * 45), Math.round(178 - s * 178)];
}

/** Pixel buffers of the particle layer, reused while the canvas keeps its size. */
const particleImages = new WeakMap();

/**
 * The dense particles as small squares on their own canvas layer, written straight into an ImageData (much
 * faster than one fillRect per particle when there are tens of thousands).
 * @param {CanvasRenderingContext2D} ctx
 * @param {import("./view.js").View} view
 * @param {Float32Array} positions (x, y) pairs
 * @param {number} t current time, for the color
 * @param {boolean} visible
 */
export function drawParticles(ctx, view, positions, t, visible) {
  const { width, height } = view;
  let image = particleImages.get(ctx);
  if (!image || image.width !== width || image.height !== height) {
    image = ctx.createImageData(width, height);
    particleImages.set(ctx, image);
  }
  const pixels = new Uint32Array(image.data.buffer);
  pixels.fill(0);
  if (visible) {
    const [r, g, b] = particleRgb(t);
    const color = ((140 << 24) | (b << 16) | (g << 8) | r) >>> 0;
    const size = Math.max(2, Math.round(1.5 * view.dpr));
    const half = Math.floor(size / 2);
    for (let i = 0; i < positions.length; i += 2) {
      const x0 = Math.round(view.px(positions[i])) - half;
      const y0 = Math.round(view.py(positions[i + 1])) - half;
      if (x0 < 0 || y0 < 0 || x0 + size > width || y0 + size > height) continue;
      for (let y = y0; y < y0 + size; y++) pixels.fill(color, y * width + x0, y * width + x0 + size);
    }
  }
  ctx.putImageData(image, 0, 0);
}
