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
 * Axes with log-scaled y (and optionally x) and one polyline per series; optionally a y-axis title, a legend of
 * the labelled series, x tick labels at the series' x values and a dashed horizontal reference line.
 * @param {HTMLCanvasElement} canvas
 * @param {{color: string, xs: number[], ys: number[], label?: string, width?: number}[]} series
 * @param {{logX?: boolean, xLabel?: string, yLabel?: string, empty?: string, legend?: boolean,
 *   xTicks?: boolean, hline?: {y: number, label: string}}} options
 */
function logPlot(canvas, series, options) {
  const { ctx, w, h } = prepare(canvas);
  // a legend sits right of the plot, where it hides no line
  const legendWidth = options.legend ? Math.max(0, ...series.map((s) => ctx.measureText(s.label ?? "").width)) + 24 : 0;
  const pad = { l: options.yLabel ? 52 : 40, r: 8 + legendWidth, t: 6, b: options.xTicks ? 30 : 18 };
  const all = series.flatMap((s) => s.ys.map((y, i) => [s.xs[i], y])).filter(([x, y]) => y > 0 && Number.isFinite(y) && x > 0);
  if (options.hline?.y > 0 && all.length >= 2) all.push([all[0][0], options.hline.y]);
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
  if (options.yLabel) {
    ctx.save();
    ctx.translate(11, pad.t + (h - pad.t - pad.b) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText(options.yLabel, 0, 0);
    ctx.restore();
  }
  if (options.xTicks) {
    ctx.textAlign = "center";
    for (const x of new Set(series.flatMap((s) => s.xs))) ctx.fillText(String(x), sx(x), h - pad.b + 12);
    ctx.textAlign = "left";
  }
  if (options.hline?.y > 0) {
    ctx.strokeStyle = "#888";
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(pad.l, sy(options.hline.y));
    ctx.lineTo(w - pad.r, sy(options.hline.y));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#666";
    const above = sy(options.hline.y) - pad.t > 12;
    ctx.fillText(options.hline.label, pad.l + 4, sy(options.hline.y) + (above ? -3 : 11));
  }
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
  if (options.legend) drawLegend(ctx, series.filter((s) => s.label), w - 4);
}

/** The series' names in their colors, one per line, right-aligned at `right`, from the top. */
function drawLegend(ctx, series, right) {
  ctx.textAlign = "right";
  series.forEach((s, i) => {
    const y = 14 + 13 * i;
    ctx.fillStyle = s.color;
    ctx.fillRect(right - ctx.measureText(s.label).width - 18, y - 5, 12, 3);
    ctx.fillText(s.label, right, y);
  });
  ctx.textAlign = "left";
}

/**
 * The per-round state the panels show; `quality` is the server's latest sample quality of the round
 * (docs/protocol.md, `metrics.quality`).
 * @typedef {{index: number, name: string, losses: number[], metrics: Record<string, number> | null,
 *   quality?: object | null}} RoundInfo
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

/**
 * Sample quality against cost: W2 to the target of each round's samples after 1, 2, 4 and 8 Euler steps, one line
 * per round (a distilled round is one point at one step), log–log, with the W2 floor dashed.
 * @param {HTMLCanvasElement} canvas @param {RoundInfo[]} rounds
 */
export function drawErrorVsSteps(canvas, rounds) {
  const measured = rounds.filter((r) => r.quality);
  const series = measured.map((r) => ({
    color: ROUND_COLORS[r.index % ROUND_COLORS.length],
    label: r.name,
    xs: r.quality.euler.map((e) => e.steps),
    ys: r.quality.euler.map((e) => e.w2 ?? NaN),
  }));
  const floor = measured.at(-1)?.quality.floor;
  logPlot(canvas, series, {
    logX: true, xTicks: true, legend: true, xLabel: "Euler steps (log scale)", yLabel: "W2 to target (log)",
    hline: floor ? { y: floor, label: "floor" } : undefined,
    empty: "W2 by steps appears a few seconds into training…",
  });
}

function fmt(v, digits = 3) {
  return typeof v === "number" && Number.isFinite(v) ? v.toPrecision(digits) : "–";
}

/**
 * The rounds table: a "random" row for the random pairing (x0, x1) (round 0's training pairs), then one row per
 * round k for its own pairing (x0, z1 of round k), as docs/engine.md, "Metrics" and the CLI report them.
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
      const q = rounds[Number(r.key)]?.quality;
      const cells = [r.name, crossing, fmt(r.cost), fmt(r.straightness), fmt(q?.euler[0]?.w2), fmt(q?.chosen.w2)];
      for (const [i, text] of cells.entries()) {
        const cell = document.createElement("td");
        cell.textContent = text;
        if (i === 0) cell.style.color = r.color;
        if (i === 1) cell.dataset.crossing = r.key;
        if (i === 4) cell.dataset.w2One = r.key;
        if (i === 5) cell.dataset.w2Chosen = r.key;
        row.append(cell);
      }
      return row;
    }),
  );
}
