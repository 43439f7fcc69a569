// The sample strip: for every round, small maps of the samples its flow generates at 1, 2, 4 and 8 Euler steps
// and with the chosen solver, each with its W2 to the target, beside the W2 floor. The server measures them on
// its metrics pool and sends the points (docs/protocol.md, `metrics.quality`); this module only draws.

import { ROUND_COLORS } from "./plots.js";
import { fitFrame } from "./view.js";

/** CSS pixels of one map's side at most (styles.css sizes it; the backing store is made for this). */
const MAP_CSS = 68;
const TARGET_COLOR = "rgba(230, 159, 0, 0.45)";

function fmt(v) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(3) : "–";
}

/** One map, framed on the target (a side-by-side scene's data sits right of the origin): the target points faint,
 * the generated samples in the round's color. */
function drawMap(canvas, samples, target, color) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = canvas.height = Math.round(MAP_CSS * dpr);
  const ctx = canvas.getContext("2d");
  const { halfX, halfY, center: [ox, oy] } = fitFrame(target);
  const scale = canvas.width / (2 * Math.max(halfX, halfY) * 1.25);
  const px = (x) => canvas.width / 2 + (x - ox) * scale;
  const py = (y) => canvas.height / 2 - (y - oy) * scale;
  const size = Math.max(1, 1.6 * dpr);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = TARGET_COLOR;
  for (const [x, y] of target) ctx.fillRect(px(x) - size / 2, py(y) - size / 2, size, size);
  if (!samples) return;
  ctx.fillStyle = color;
  for (let i = 0; i + 1 < samples.length; i += 2) ctx.fillRect(px(samples[i]) - size / 2, py(samples[i + 1]) - size / 2, size, size);
}

function solverName(method) {
  return { euler: "Euler", midpoint: "midpoint", rk4: "RK4" }[method] ?? method;
}

/**
 * Draw the strip into `container`: one row per round that has been measured.
 * @param {HTMLElement} container
 * @param {{index: number, name: string, quality?: object | null}[]} rounds
 * @param {number[][]} target the scene's data points, drawn faintly under every map (what pairs mode measures against)
 * @param {HTMLElement} note where the strip says what W2 is measured against and the floor
 */
export function renderSampleStrip(container, rounds, target, note) {
  const measured = rounds.filter((r) => r.quality);
  if (!measured.length) {
    container.replaceChildren();
    note.textContent = "Samples of each round at 1, 2, 4 and 8 Euler steps appear here a few seconds into training.";
    return;
  }
  const last = measured.at(-1).quality;
  const floor = last.floor === null ? "no floor for drawn data (it has no preset to draw fresh samples from)"
    : `floor ${fmt(last.floor)}: what fresh samples of the target itself score`;
  const memorized = last.against.includes("scene") ? " In pairs mode a flow can score below the floor by reproducing the points themselves." : "";
  note.textContent = `W2 of ${last.n} generated samples to ${last.against} (lower is better; ${floor}).${memorized}`;
  container.replaceChildren(...measured.map((round) => {
    const q = round.quality;
    const color = ROUND_COLORS[round.index % ROUND_COLORS.length];
    const row = document.createElement("div");
    row.className = "strip-row";
    row.dataset.round = String(round.index);
    const head = document.createElement("div");
    head.className = "strip-head";
    const name = document.createElement("b");
    name.textContent = round.name;
    name.style.color = color;
    const floorText = document.createElement("span");
    floorText.textContent = q.floor === null ? "" : ` floor ${fmt(q.floor)}`;
    floorText.title = "the W2 that fresh samples of the target score against the same points: no generator can expect to do better";
    head.append(name, floorText);
    const maps = document.createElement("div");
    maps.className = "strip-maps";
    const entries = [
      ...q.euler.map((e) => ({ ...e, label: `${e.steps} Euler step${e.steps > 1 ? "s" : ""}`, key: `euler-${e.steps}` })),
      { ...q.chosen, label: `${solverName(q.chosen.method)} × ${q.chosen.steps} (chosen)`, key: "chosen" },
    ];
    for (const entry of entries) {
      const figure = document.createElement("figure");
      figure.className = "strip-map";
      figure.dataset.key = entry.key;
      figure.dataset.w2 = String(entry.w2 ?? "");
      figure.title = `${round.name}: where ${entry.label} take ${q.n} noise points (colored) over the target (faint orange); W2 ${fmt(entry.w2)}`;
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", figure.title);
      drawMap(canvas, entry.points, target, color);
      const caption = document.createElement("figcaption");
      const what = document.createElement("span");
      what.textContent = entry.key === "chosen" ? `${solverName(entry.method)}×${entry.steps}` : `${entry.steps} step${entry.steps > 1 ? "s" : ""}`;
      const value = document.createElement("b");
      value.textContent = fmt(entry.w2);
      caption.append(what, value);
      figure.append(canvas, caption);
      maps.append(figure);
    }
    row.append(head, maps);
    return row;
  }));
}
