// Small plots and tables: the live loss curve, the per-round metrics table and error vs. number of steps.

/** The q-quantile (0…1) of `values` (nearest rank), or null when empty. */
export function percentile(values, q) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One Okabe–Ito color per round (random, 1-RF, 2-RF, …). */
export const ROUND_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

/** Size the canvas's backing store to its CSS box; returns the 2D context scaled to CSS pixels. */
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  ctx.font = "11px system-ui, sans-serif";
  return { ctx, w: canvas.clientWidth, h: canvas.clientHeight };
}

function niceLog(v) {
  return v >= 0.01 && v < 1000 ? String(Number(v.toPrecision(2))) : v.toExponential(0);
}

/**
 * Axes with log-scaled y (and optionally x) and one polyline per series.
 * @param {HTMLCanvasElement} canvas
 * @param {{color: string, xs: number[], ys: number[], label?: string, width?: number}[]} series
 * @param {{logX?: boolean, xLabel?: string, empty?: string}} options
 */
function logPlot(canvas, series, options) {
  const { ctx, w, h } = prepare(canvas);
  const pad = { l: 40, r: 8, t: 6, b: 18 };
  const all = series.flatMap((s) => s.ys.map((y, i) => [s.xs[i], y])).filter(([x, y]) => y > 0 && Number.isFinite(y) && x > 0);
  ctx.fillStyle = "#888";
  if (all.length < 2) {
    ctx.fillText(options.empty || "waiting for data…", pad.l, h / 2);
    return;
  }
  const fx = options.logX ? Math.log10 : (x) => x;
  let [x0, x1] = [Math.min(...all.map((p) => fx(p[0]))), Math.max(...all.map((p) => fx(p[0])))];
  let [y0, y1] = [Math.min(...all.map((p) => Math.log10(p[1]))), Math.max(...all.map((p) => Math.log10(p[1])))];
  if (x1 - x0 < 1e-9) x1 = x0 + 1;
  if (y1 - y0 < 0.3) {
    y0 -= 0.15;
    y1 += 0.15;
  }
  const sx = (x) => pad.l + ((fx(x) - x0) / (x1 - x0)) * (w - pad.l - pad.r);
  const sy = (y) => pad.t + (1 - (Math.log10(y) - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  ctx.strokeStyle = "#ccc";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(pad.l, pad.t);
  ctx.lineTo(pad.l, h - pad.b);
  ctx.lineTo(w - pad.r, h - pad.b);
  ctx.stroke();
  ctx.fillStyle = "#666";
  ctx.textAlign = "right";
  ctx.fillText(niceLog(10 ** y1), pad.l - 3, pad.t + 8);
  ctx.fillText(niceLog(10 ** y0), pad.l - 3, h - pad.b);
  ctx.textAlign = "left";
  if (options.xLabel) ctx.fillText(options.xLabel, pad.l + 2, h - 4);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.width || 1.5;
    ctx.beginPath();
    let started = false;
    s.xs.forEach((x, i) => {
      const y = s.ys[i];
      if (!(y > 0) || !(x > 0)) return;
      if (started) ctx.lineTo(sx(x), sy(y));
      else ctx.moveTo(sx(x), sy(y));
      started = true;
    });
    ctx.stroke();
    if (options.logX) s.xs.forEach((x, i) => s.ys[i] > 0 && ctx.fillRect(sx(x) - 2, sy(s.ys[i]) - 2, 4, 4));
  }
}

/**
 * The per-round state the panels show.
 * @typedef {{index: number, name: string, losses: number[], metrics: Record<string, number> | null,
 *   errorVsSteps: {steps: number[], error: number[]} | null}} RoundInfo
 */

/** @param {HTMLCanvasElement} canvas @param {RoundInfo[]} rounds @param {number} current */
export function drawLoss(canvas, rounds, current) {
  const series = rounds.map((r) => ({
    color: ROUND_COLORS[r.index % ROUND_COLORS.length],
    xs: r.losses.map((_, i) => i + 1),
    ys: smooth(r.losses),
    width: r.index === current ? 2 : 1,
  }));
  logPlot(canvas, series, { xLabel: "snapshots (smoothed minibatch loss)", empty: "the loss appears while training…" });
}

/** Exponential moving average, so the noisy mini-batch loss reads as a curve. */
function smooth(values, alpha = 0.2) {
  const out = [];
  let m = values[0];
  for (const v of values) {
    m = alpha * v + (1 - alpha) * m;
    out.push(m);
  }
  return out;
}

/** @param {HTMLCanvasElement} canvas @param {RoundInfo[]} rounds */
export function drawErrorVsSteps(canvas, rounds) {
  const series = rounds
    .filter((r) => r.errorVsSteps)
    .map((r) => ({ color: ROUND_COLORS[r.index % ROUND_COLORS.length], xs: r.errorVsSteps.steps, ys: r.errorVsSteps.error }));
  logPlot(canvas, series, { logX: true, xLabel: "Euler steps 1…32 (log–log)", empty: "computed while the round trains…" });
}

function fmt(v, digits = 3) {
  return typeof v === "number" && Number.isFinite(v) ? v.toPrecision(digits) : "–";
}

/**
 * The rounds table: a "random" row for the random pairing (x0, x1) (round 0's training pairs), then one row per
 * round k for its own pairing (x0, z1 of round k), as design.md §6 and the CLI report them.
 * @param {HTMLTableSectionElement} tbody @param {RoundInfo[]} rounds @param {number | "random"} current
 */
export function renderMetrics(tbody, rounds, current) {
  const first = rounds[0]?.metrics || {};
  const random = { key: "random", name: "random", color: "", crossing: first.trainedCrossing, cost: first.trainedCost };
  const rows = [random, ...rounds.map((r) => ({
    key: String(r.index), name: r.name, color: ROUND_COLORS[r.index % ROUND_COLORS.length], ...r.metrics,
  }))];
  tbody.replaceChildren(
    ...rows.map((r) => {
      const row = document.createElement("tr");
      if (r.key === String(current)) row.style.fontWeight = "600";
      const crossing = typeof r.crossing === "number" ? (100 * r.crossing).toFixed(1) : "–";
      for (const [i, text] of [r.name, crossing, fmt(r.cost), fmt(r.straightness)].entries()) {
        const cell = document.createElement("td");
        cell.textContent = text;
        if (i === 0) cell.style.color = r.color;
        if (i === 1) cell.dataset.crossing = r.key;
        row.append(cell);
      }
      return row;
    }),
  );
}
