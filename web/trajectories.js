// Reading and writing a flow's trajectories (draw.js `Flow`: `points` holds (steps + 1) × n positions,
// row-major, as flat (x, y) pairs: time index k, then sample i). The layout is written down here once.

/** Where the position of sample i at time index k starts in `flow.points`. */
function offset(flow, k, i) {
  return 2 * (k * flow.n + i);
}

/**
 * A flow of n trajectories on the time grid `times` (steps + 1 values), every position zero.
 * @returns {import("./draw.js").Flow}
 */
export function emptyFlow(n, times) {
  const steps = times.length - 1;
  return { points: new Float32Array(2 * n * (steps + 1)), steps, n, times };
}

/**
 * The position [x, y] of sample i at time index k, written into `out` when given (the drawing loops pass one
 * scratch pair, so that they allocate nothing per point).
 */
export function trajectoryPoint(flow, k, i, out = undefined) {
  const a = offset(flow, k, i);
  const point = out ?? [0, 0];
  point[0] = flow.points[a];
  point[1] = flow.points[a + 1];
  return point;
}

export function setTrajectoryPoint(flow, k, i, x, y) {
  const a = offset(flow, k, i);
  flow.points[a] = x;
  flow.points[a + 1] = y;
}

/** The whole trajectory of sample i as [x, y] pairs, one per grid time. */
export function trajectoryOf(flow, i) {
  return Array.from({ length: flow.steps + 1 }, (_, k) => trajectoryPoint(flow, k, i));
}

/** Where every trajectory ends (time index `steps`), as [x, y] pairs. */
export function endpointsOf(flow) {
  return Array.from({ length: flow.n }, (_, i) => trajectoryPoint(flow, flow.steps, i));
}
