// The probe: why paths bend. With the probe on, a click or tap on the scene picks a spot; at the current t the
// probe highlights the straight training segments x_t = (1 − t)·x0 + t·x1 that pass near it, draws their
// directions x1 − x0, their (distance-weighted) mean, and the learned velocity v(spot, t) from the page's own
// MLP (WebGPU or the JS fallback): about their average, which is why the learned paths bend instead of crossing.

import { makeVelocity, traceFlow } from "./cpu.js";
import { endpointsOf } from "./trajectories.js";

/** World units: segments whose point at t lies this close to the spot are highlighted. */
export const PROBE_RADIUS = 0.3;
/** Highlighted segments drawn at most (the nearest). */
const MAX_DRAWN = 40;
/** Online 1-RF trains on independent pairs: the probe pairs every scene noise point with every data point, up to
 * this many of each. */
const ONLINE_SIDE = 160;
/** Direction arrows are drawn at this fraction of their length. */
const ARROW_SCALE = 0.35;
const COLORS = { segment: "rgba(204, 121, 167, 0.9)", mean: "#111", velocity: "#009E73" };
/** The teacher's endpoints are traced as the server traces them for reflow (settings.teacher_steps, rk4). */
const TEACHER_STEPS = 8;

/**
 * The training segments of the shown round: its pairs (x0, x1). 1-RF: the scene's pairs as given (online: every
 * noise point with every data point, the independent coupling the round samples from); OT: the scene's points
 * re-paired by the server's assignment; a reflow or distilled round: the noise points with the teacher's endpoints.
 * @returns {{x0: number[][], x1: number[][], what: string} | null}
 */
function trainingSegments(app, cache) {
  const round = app.rounds[app.snapshot?.round];
  const { x0, x1 } = app.state;
  if (!round || !x0.length) return null;
  if (round.teacher !== null && round.teacher !== undefined) {
    const stored = app.roundWeights.get(round.teacher);
    if (!stored) return null;
    const key = `${round.teacher}|${x0.length}|${x0[0]}|${x0.at(-1)}`;
    if (cache.teacherWeights !== stored.weights || cache.teacherKey !== key) {
      cache.teacherEnds = endpointsOf(traceFlow(makeVelocity(stored.weights, stored.net), x0, "rk4", TEACHER_STEPS, 1));
      cache.teacherWeights = stored.weights;
      cache.teacherKey = key;
    }
    return { x0, x1: cache.teacherEnds, what: `the noise points paired with ${app.rounds[round.teacher].name}'s endpoints (reflow)` };
  }
  if (round.coupling === "ot") {
    if (round.pairing?.length === x0.length) {
      return { x0, x1: round.pairing.map((j) => x1[j]), what: "the scene's points re-paired by optimal transport" };
    }
    return null;
  }
  if (app.state.settings.mode === "online") {
    const a = x0.slice(0, ONLINE_SIDE);
    const b = x1.slice(0, ONLINE_SIDE);
    return {
      x0: a.flatMap((p) => b.map(() => p)),
      x1: a.flatMap(() => b),
      what: "every noise point with every data point (online pairs are independent)",
    };
  }
  return { x0, x1, what: "the scene's pairs" };
}

/** The segments whose point at t is within PROBE_RADIUS of the spot, nearest first, and their weighted mean. */
export function segmentsNear(segments, spot, t) {
  const near = [];
  for (let i = 0; i < segments.x0.length; i++) {
    const a = segments.x0[i];
    const b = segments.x1[i];
    const x = (1 - t) * a[0] + t * b[0];
    const y = (1 - t) * a[1] + t * b[1];
    const d = Math.hypot(x - spot[0], y - spot[1]);
    if (d <= PROBE_RADIUS) near.push({ i, d, from: a, to: b, at: [x, y], dir: [b[0] - a[0], b[1] - a[1]] });
  }
  near.sort((p, q) => p.d - q.d);
  let wx = 0;
  let wy = 0;
  let total = 0;
  const h = PROBE_RADIUS / 2;
  for (const s of near) {
    const weight = Math.exp(-(s.d * s.d) / (2 * h * h));
    wx += weight * s.dir[0];
    wy += weight * s.dir[1];
    total += weight;
  }
  return { near, mean: total > 0 ? [wx / total, wy / total] : null };
}

function arrow(ctx, view, from, vec, color, width, dashed = false) {
  const x0 = view.px(from[0]);
  const y0 = view.py(from[1]);
  const x1 = view.px(from[0] + ARROW_SCALE * vec[0]);
  const y1 = view.py(from[1] + ARROW_SCALE * vec[1]);
  const angle = Math.atan2(y1 - y0, x1 - x0);
  const head = 8 * view.dpr;
  ctx.strokeStyle = ctx.fillStyle = color;
  ctx.lineWidth = width * view.dpr;
  ctx.setLineDash(dashed ? [5 * view.dpr, 4 * view.dpr] : []);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - head * Math.cos(angle - 0.4), y1 - head * Math.sin(angle - 0.4));
  ctx.lineTo(x1 - head * Math.cos(angle + 0.4), y1 - head * Math.sin(angle + 0.4));
  ctx.closePath();
  ctx.fill();
}

const fmt = (v) => `(${v[0].toFixed(2)}, ${v[1].toFixed(2)})`;

/** The probe of one app: `toggle`, `pick` a spot, `update` each frame, `draw` onto the scene canvas. */
export class Probe {
  constructor(app, button, readout) {
    this.app = app;
    this.button = button;
    this.readout = readout;
    this.on = false;
    /** @type {number[] | null} the picked spot, world coordinates */
    this.spot = null;
    /** what was computed for the spot: t, segments near it, their mean, the learned velocity */
    this.result = null;
    this.key = "";
    this.cache = {};
    this.pending = 0;
    button.addEventListener("click", () => this.toggle());
    // Capture phase on the canvases' box: with the probe on, a click or tap picks a spot instead of dragging.
    app.canvases.scene.parentElement.addEventListener("pointerdown", (event) => {
      if (!this.on) return;
      event.stopPropagation();
      event.preventDefault();
      const rect = app.canvases.scene.getBoundingClientRect();
      this.pick(app.view.toWorld(event.clientX - rect.left, event.clientY - rect.top));
    }, { capture: true });
  }

  toggle(on = !this.on) {
    this.on = on;
    this.button.setAttribute("aria-pressed", String(on));
    this.app.canvases.scene.parentElement.classList.toggle("probing", on);
    if (!on) {
      this.spot = this.result = null;
      this.readout.hidden = true;
    } else {
      this.readout.hidden = false;
      this.readout.textContent = "Probe on: click or tap a spot of the scene to see which training segments pass near it at the current t.";
    }
    this.key = "";
    this.app.dirty = true;
  }

  pick(spot) {
    this.spot = spot;
    this.key = "";
    this.app.dirty = true;
  }

  /** Recompute when the spot, t, the shown snapshot or the points changed (called every frame). */
  update() {
    if (!this.on || !this.spot) return;
    const app = this.app;
    const t = app.state.view.t;
    const key = `${this.spot}|${t}|${app.snapshots}|${app.state.count}|${app.state.settings.mode}`;
    if (key === this.key) return;
    this.key = key;
    const segments = trainingSegments(app, this.cache);
    if (!segments) {
      this.result = null;
      this.readout.textContent = "The probe waits for this round's training pairs (they come with its first metrics).";
      return;
    }
    const { near, mean } = segmentsNear(segments, this.spot, t);
    // the last velocity stays drawn until the new weights' one is evaluated (no flicker at 30 snapshots a second)
    const previous = this.result?.spot === this.spot ? this.result.velocity : null;
    const result = { spot: this.spot, t, near, mean, what: segments.what, velocity: previous };
    this.result = result;
    this.describe();
    app.dirty = true;
    const ticket = ++this.pending;
    app.backend?.evaluate(new Float32Array([this.spot[0], this.spot[1], t])).then((v) => {
      if (ticket !== this.pending || this.result !== result) return;
      result.velocity = [v[0], v[1]];
      this.describe();
      app.dirty = true;
    }, (error) => console.warn(`rftoy: probe velocity: ${error.message}`));
  }

  describe() {
    const r = this.result;
    const where = `At ${fmt(r.spot)}, t = ${r.t.toFixed(2)}`;
    const velocity = r.velocity ? `the learned velocity (green) is ${fmt(r.velocity)}` : "the learned velocity is being evaluated";
    if (!r.near.length) {
      this.readout.textContent = `${where}: no training segment (${r.what}) passes within ${PROBE_RADIUS} at this t; ${velocity}. Try another spot or t.`;
      return;
    }
    this.readout.textContent = `${where}: ${r.near.length} training segment${r.near.length > 1 ? "s" : ""} (${r.what}) pass within ${PROBE_RADIUS} (pink, their directions as arrows). Their weighted mean direction (dashed) is ${fmt(r.mean)}; ${velocity}: about their average, so the learned path bends between them instead of crossing.`;
  }

  /** Draw the highlighted segments, their directions, the mean and the learned velocity. */
  draw(ctx, view) {
    if (!this.on || !this.spot) return;
    const r = this.result;
    ctx.save();
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 1.5 * view.dpr;
    ctx.beginPath();
    ctx.arc(view.px(this.spot[0]), view.py(this.spot[1]), PROBE_RADIUS * view.scale, 0, 2 * Math.PI);
    ctx.stroke();
    if (r) {
      for (const s of r.near.slice(0, MAX_DRAWN)) {
        ctx.strokeStyle = COLORS.segment;
        ctx.lineWidth = 2.5 * view.dpr;
        ctx.beginPath();
        ctx.moveTo(view.px(s.from[0]), view.py(s.from[1]));
        ctx.lineTo(view.px(s.to[0]), view.py(s.to[1]));
        ctx.stroke();
        ctx.fillStyle = COLORS.segment;
        ctx.beginPath();
        ctx.arc(view.px(s.at[0]), view.py(s.at[1]), 3.5 * view.dpr, 0, 2 * Math.PI);
        ctx.fill();
        arrow(ctx, view, this.spot, s.dir, COLORS.segment, 1.5);
      }
      if (r.mean) arrow(ctx, view, this.spot, r.mean, COLORS.mean, 2, true);
      if (r.velocity) arrow(ctx, view, this.spot, r.velocity, COLORS.velocity, 3.5);
    }
    ctx.restore();
  }

  /** A plain summary for the test hook. */
  summary() {
    const r = this.result;
    return {
      on: this.on,
      spot: this.spot,
      t: r?.t ?? null,
      segments: r ? r.near.map((s) => s.i) : [],
      directions: r ? r.near.map((s) => s.dir) : [],
      mean: r?.mean ?? null,
      velocity: r?.velocity ?? null,
      text: this.readout.textContent,
    };
  }
}
