// Seeded random numbers in the browser: the dense particles' starting points and noise for drawn scenes.

/** A small seeded generator (mulberry32) returning uniforms in [0, 1). */
export function randomUniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal pairs by the Box–Muller transform. */
export function randomNormal(uniform) {
  return () => {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    return [r * Math.cos(angle), r * Math.sin(angle)];
  };
}

/**
 * `count` particle starting points drawn around the noise samples (a Gaussian kernel density estimate with
 * Silverman's bandwidth), so the dense cloud follows whatever source the scene has, user-edited included.
 * @param {number[][]} x0 the scene's noise samples
 * @returns {Float32Array} (x, y) pairs
 */
export function particleOrigins(x0, count, seed) {
  const out = new Float32Array(2 * count);
  if (!x0.length) return out;
  const uniform = randomUniform(seed);
  const normal = randomNormal(uniform);
  const n = x0.length;
  const mean = [0, 1].map((c) => x0.reduce((s, p) => s + p[c], 0) / n);
  const std = [0, 1].map((c) => Math.sqrt(x0.reduce((s, p) => s + (p[c] - mean[c]) ** 2, 0) / n) || 0.1);
  const bandwidth = std.map((s) => 1.06 * s * n ** -0.2);
  for (let i = 0; i < count; i++) {
    const p = x0[Math.floor(uniform() * n)];
    const [a, b] = normal();
    out[2 * i] = p[0] + bandwidth[0] * a;
    out[2 * i + 1] = p[1] + bandwidth[1] * b;
  }
  return out;
}

/** `count` standard-normal points, for the noise side of a scene whose data side was drawn by hand. */
export function normalPoints(count, seed) {
  const normal = randomNormal(randomUniform(seed));
  return Array.from({ length: count }, normal);
}
