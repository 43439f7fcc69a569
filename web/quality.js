// Sample quality measured in the page for the lesson: where a round's flow takes the scene's noise points with a
// given solver, and the exact-assignment W2 distance from those samples to the scene's data points (the same
// measure as the server's `w2`, docs/protocol.md).

import { makeVelocity, traceFlow } from "./cpu.js";

/**
 * Minimal total cost of a one-to-one assignment (Hungarian method with potentials, O(n³)).
 * @param {Float64Array} cost n × n, row-major
 * @param {number} n
 */
function assignmentCost(cost, n) {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const owner = new Int32Array(n + 1); // owner[j]: the row matched to column j (1-based; 0 is none)
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = owner[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const reduced = cost[(i0 - 1) * n + j - 1] - u[i0] - v[j];
        if (reduced < minv[j]) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0);
  }
  let total = 0;
  for (let j = 1; j <= n; j++) total += cost[(owner[j] - 1) * n + j - 1];
  return total;
}

/**
 * W2 between two equally large point sets: √(mean squared distance) under the best one-to-one matching.
 * @param {number[][]} a @param {number[][]} b
 */
export function wasserstein2(a, b) {
  const n = a.length;
  if (!n || n !== b.length) return null;
  const cost = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) cost[i * n + j] = (a[i][0] - b[j][0]) ** 2 + (a[i][1] - b[j][1]) ** 2;
  }
  return Math.sqrt(assignmentCost(cost, n) / n);
}

/**
 * Where the flow of `stored` weights takes each start point with `method` × `steps` (a time grid warped by warpS).
 * @param {{weights: Float32Array, net: import("./cpu.js").NetShape}} stored
 * @returns {number[][]}
 */
export function endpoints(stored, starts, method, steps, warpS = 1) {
  const flow = traceFlow(makeVelocity(stored.weights, stored.net), starts, method, steps, warpS);
  const base = 2 * flow.steps * flow.n;
  return Array.from({ length: flow.n }, (_, i) => [flow.points[base + 2 * i], flow.points[base + 2 * i + 1]]);
}

/** Mean distance between a[i] and b[i]. */
export function meanGap(a, b) {
  if (!a.length || a.length !== b.length) return null;
  return a.reduce((sum, p, i) => sum + Math.hypot(p[0] - b[i][0], p[1] - b[i][1]), 0) / a.length;
}

/** Results per weights array, so a check run every few hundred ms traces each snapshot's weights once. */
const cache = new WeakMap();

/**
 * One-step and chosen-solver samples of a round from the scene's x0, with their W2 to the scene's x1.
 * @param {{weights: Float32Array, net: object}} stored
 * @param {{x0: number[][], x1: number[][]}} scene
 * @param {{solver: string, steps: number, warp_s: number}} settings
 */
export function roundQuality(stored, scene, settings) {
  const key = `${scene.x0.length}|${settings.solver}|${settings.steps}|${settings.warp_s}|${JSON.stringify(scene.x0[0])}`;
  const hit = cache.get(stored.weights);
  if (hit?.key === key) return hit.value;
  const one = endpoints(stored, scene.x0, "euler", 1);
  const chosen = endpoints(stored, scene.x0, settings.solver, settings.steps, settings.warp_s);
  const value = { one, chosen, w2One: wasserstein2(one, scene.x1), w2Chosen: wasserstein2(chosen, scene.x1) };
  cache.set(stored.weights, { key, value });
  return value;
}
