// Where a round's flow takes the scene's noise points with a given solver, traced in the page for the lesson's
// checks and marks (one Euler step against the chosen solver). The W2 figures come from the server's `quality`
// (docs/protocol.md), the same numbers as the sample strip.

import { makeVelocity, traceFlow } from "./cpu.js";
import { endpointsOf } from "./trajectories.js";

/**
 * Where the flow of `stored` weights takes each start point with `method` × `steps` (a time grid warped by warpS).
 * @param {{weights: Float32Array, net: import("./cpu.js").NetShape}} stored
 * @returns {number[][]}
 */
function endpoints(stored, starts, method, steps, warpS = 1) {
  return endpointsOf(traceFlow(makeVelocity(stored.weights, stored.net), starts, method, steps, warpS));
}

/** Mean distance between a[i] and b[i]. */
export function meanGap(a, b) {
  if (!a.length || a.length !== b.length) return null;
  return a.reduce((sum, p, i) => sum + Math.hypot(p[0] - b[i][0], p[1] - b[i][1]), 0) / a.length;
}

/** Results per weights array, so a check run every few hundred ms traces each snapshot's weights once. */
const cache = new WeakMap();

/**
 * One-step and chosen-solver samples of a round from the scene's x0.
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
  const value = { one, chosen };
  cache.set(stored.weights, { key, value });
  return value;
}
