// The plain-JS backend: the velocity MLP, particle advection and field evaluation on the CPU. Used where
// WebGPU is missing or fails; same interface as gpu.js. Also the CPU solver used for traced comparisons.

import { emptyFlow, setTrajectoryPoint } from "./trajectories.js";

/** Activation names in the order the shaders number them. */
export const ACTIVATIONS = ["gelu", "silu", "tanh", "relu"];

/** Solver names in the order the shaders number them. */
export const METHODS = ["euler", "midpoint", "rk4"];

const GELU_C = Math.sqrt(2 / Math.PI);

/** @type {Record<string, (x: number) => number>} */
const ACTIVATION_FNS = {
  gelu: (x) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x))),
  silu: (x) => x / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  relu: (x) => (x > 0 ? x : 0),
};

/**
 * @typedef {{width: number, depth: number, activation: string}} NetShape
 * Hidden width, number of hidden layers and activation name, as in server/rftoy/engine/model.py.
 */

/** Number of floats in the flat weight array of `shape` (docs/engine.md, "Weight layout"). */
export function parameterCount(shape) {
  const w = shape.width;
  return 3 * w + w + (shape.depth - 1) * (w * w + w) + 2 * w + 2;
}

/**
 * A velocity function over the flat weight layout: for each linear layer, W (out × in, row-major) then b.
 * @param {Float32Array} weights
 * @param {NetShape} shape
 * @returns {(x: number, y: number, t: number, out: Float64Array) => void} writes (vx, vy) into `out`
 */
export function makeVelocity(weights, shape) {
  const act = ACTIVATION_FNS[shape.activation];
  if (!act) throw new Error(`unknown activation ${shape.activation}`);
  if (weights.length !== parameterCount(shape)) {
    throw new Error(`weights have ${weights.length} values, a ${shape.width}×${shape.depth} net needs ${parameterCount(shape)}`);
  }
  const w = shape.width;
  let a = new Float64Array(w);
  let b = new Float64Array(w);
  return (x, y, t, out) => {
    for (let j = 0; j < w; j++) {
      const r = 3 * j;
      a[j] = act(weights[r] * x + weights[r + 1] * y + weights[r + 2] * t + weights[3 * w + j]);
    }
    let offset = 4 * w;
    for (let layer = 1; layer < shape.depth; layer++) {
      for (let j = 0; j < w; j++) {
        const r = offset + j * w;
        let s = 0;
        for (let k = 0; k < w; k++) s += weights[r + k] * a[k];
        b[j] = act(s + weights[offset + w * w + j]);
      }
      [a, b] = [b, a];
      offset += w * w + w;
    }
    let vx = 0;
    let vy = 0;
    for (let k = 0; k < w; k++) {
      vx += weights[offset + k] * a[k];
      vy += weights[offset + w + k] * a[k];
    }
    out[0] = vx + weights[offset + 2 * w];
    out[1] = vy + weights[offset + 2 * w + 1];
  };
}

/**
 * Advance (x, y) by one solver step from t to t + dt; returns the new position in `out`.
 * @param {ReturnType<typeof makeVelocity>} v
 */
export function solverStep(v, method, x, y, t, dt, out) {
  const k = new Float64Array(2);
  if (method === "euler") {
    v(x, y, t, k);
    out[0] = x + dt * k[0];
    out[1] = y + dt * k[1];
    return;
  }
  if (method === "midpoint") {
    v(x, y, t, k);
    v(x + 0.5 * dt * k[0], y + 0.5 * dt * k[1], t + 0.5 * dt, k);
    out[0] = x + dt * k[0];
    out[1] = y + dt * k[1];
    return;
  }
  const k1 = new Float64Array(2);
  const k2 = new Float64Array(2);
  const k3 = new Float64Array(2);
  v(x, y, t, k1);
  v(x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1], t + 0.5 * dt, k2);
  v(x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1], t + 0.5 * dt, k3);
  v(x + dt * k3[0], y + dt * k3[1], t + dt, k);
  out[0] = x + (dt / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k[0]);
  out[1] = y + (dt / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k[1]);
}

/** The JS backend. Particles live in a Float32Array of (x, y) pairs. */
export class CpuBackend {
  name = "js";
  software = true;
  /** always ready for the next advection (it runs synchronously) */
  idle = true;

  constructor() {
    /** @type {ReturnType<typeof makeVelocity> | null} */
    this.velocity = null;
    this.origins = new Float32Array(0);
    this.positions = new Float32Array(0);
  }

  get particleCount() {
    return this.origins.length / 2;
  }

  /** @param {Float32Array} weights @param {NetShape} shape */
  setWeights(weights, shape) {
    this.velocity = makeVelocity(weights, shape);
  }

  /** New particle starting points (x, y pairs); positions restart there. */
  setOrigins(origins) {
    this.origins = origins;
    this.positions = origins.slice();
  }

  /** Positions back to the origins. */
  reset() {
    this.positions.set(this.origins);
  }

  /** Move every particle from tFrom to tTo in `substeps` steps of `method`. */
  advect(tFrom, tTo, substeps, method) {
    if (!this.velocity || substeps < 1) return;
    const dt = (tTo - tFrom) / substeps;
    const p = this.positions;
    const out = new Float64Array(2);
    for (let i = 0; i < p.length; i += 2) {
      let x = p[i];
      let y = p[i + 1];
      for (let k = 0; k < substeps; k++) {
        solverStep(this.velocity, method, x, y, tFrom + k * dt, dt, out);
        x = out[0];
        y = out[1];
      }
      p[i] = x;
      p[i + 1] = y;
    }
  }

  /**
   * v at query points.
   * @param {Float32Array} queries (x, y, t) triples
   * @returns {Promise<Float32Array>} (vx, vy) pairs
   */
  async evaluate(queries) {
    return this.evaluateNow(queries);
  }

  /** Synchronous form of `evaluate`. */
  evaluateNow(queries) {
    const n = queries.length / 3;
    const result = new Float32Array(2 * n);
    if (!this.velocity) return result;
    const out = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      this.velocity(queries[3 * i], queries[3 * i + 1], queries[3 * i + 2], out);
      result[2 * i] = out[0];
      result[2 * i + 1] = out[1];
    }
    return result;
  }
}

/** Hawley's cubic warp of a uniform time grid (s = 1 is the identity), as in server/rftoy/engine/solvers.py. */
export function timeGrid(steps, warpS = 1) {
  const times = new Float32Array(steps + 1);
  for (let k = 0; k <= steps; k++) {
    const t = k / steps;
    times[k] = 4 * (1 - warpS) * t ** 3 + 6 * (warpS - 1) * t ** 2 + (3 - 2 * warpS) * t;
  }
  return times;
}

/**
 * Trace every start point through the flow on the CPU.
 * @param {ReturnType<typeof makeVelocity>} v
 * @param {number[][]} starts
 * @returns {import("./draw.js").Flow}
 */
export function traceFlow(v, starts, method, steps, warpS = 1) {
  const times = timeGrid(steps, warpS);
  const flow = emptyFlow(starts.length, times);
  const out = new Float64Array(2);
  starts.forEach(([x, y], i) => {
    setTrajectoryPoint(flow, 0, i, x, y);
    for (let k = 0; k < steps; k++) {
      solverStep(v, method, x, y, times[k], times[k + 1] - times[k], out);
      [x, y] = out;
      setTrajectoryPoint(flow, k + 1, i, x, y);
    }
  });
  return flow;
}
