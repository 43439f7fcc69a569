// The legend under the canvas: one entry for every kind of mark drawn now (it follows the View layers).

import { COLORS, PATH_GRADIENT } from "./draw.js";

/** @type {{key: string, shown: (view: any, extra: any) => boolean, swatch: string, color: string, label: string, title: string}[]} */
const ENTRIES = [
  { key: "noise", shown: (v) => v.layers.samples, swatch: "dot", color: COLORS.noise, label: "noise x0",
    title: "noise samples x0: where every path starts (t = 0)" },
  { key: "data", shown: (v) => v.layers.samples, swatch: "dot", color: COLORS.data, label: "data x1",
    title: "data samples x1: what the flow should produce (t = 1)" },
  { key: "pairs", shown: (v) => v.layers.pairs, swatch: "line", color: COLORS.pair, label: "pairing",
    title: "the pairing the flow is trained on: each noise sample joined to its data sample by a straight line" },
  { key: "paths", shown: (v, extra) => v.layers.trajectories && !extra.random, swatch: "line", color: PATH_GRADIENT,
    label: "learned path", title: "the path each noise sample takes through the learned flow, sky blue at t = 0 turning orange at t = 1" },
  { key: "straight", shown: (v, extra) => v.layers.trajectories && extra.random, swatch: "line", color: PATH_GRADIENT,
    label: "straight path", title: "the random pairing's own paths: straight lines from x0 to x1 at constant speed" },
  { key: "moving", shown: (v) => v.layers.moving, swatch: "dot small", color: COLORS.moving, label: "point at t",
    title: "where each sample is at the current time t (play or scrub t below)" },
  { key: "endpoints", shown: (v) => v.layers.endpoints, swatch: "ring", color: COLORS.endpoint, label: "new sample z1",
    title: "where each path ends: the samples the flow generates" },
  { key: "newPairs", shown: (v) => v.layers.newPairs, swatch: "dash", color: COLORS.newPair, label: "reflow pairs (x0, z1)",
    title: "the pairs Reflow trains the next round on: each noise sample with the end of its own path" },
  { key: "particles", shown: (v) => v.layers.particles, swatch: "dot tiny", color: "#7f9fb0", label: "particles",
    title: "many extra noise samples moved by the flow in your browser, colored blue at t = 0 to orange at t = 1" },
  { key: "field", shown: (v) => v.field !== "off", swatch: "arrow", color: COLORS.field, label: "velocity",
    title: "the learned velocity at the current t: the direction and speed a point there moves" },
  { key: "one-step", shown: (v, extra) => extra.oneStep, swatch: "cross", color: "#D55E00", label: "one Euler step",
    title: "where a single Euler step from each noise sample lands" },
];

let drawn = "";

/**
 * Rewrite the legend when the set of drawn marks changed.
 * @param {{layers: Record<string, boolean>, field: string}} view
 * @param {{oneStep?: boolean, random?: boolean}} extra marks drawn by the lesson; the random tab's straight paths
 */
export function renderLegend(view, extra = {}) {
  const shown = ENTRIES.filter((e) => e.shown(view, extra));
  const key = shown.map((e) => e.key).join(",");
  if (key === drawn) return;
  drawn = key;
  const legend = document.getElementById("legend");
  const hint = legend.querySelector(".hint");
  legend.replaceChildren(...shown.map((e) => {
    const item = document.createElement("span");
    item.title = e.title;
    item.dataset.mark = e.key;
    const swatch = document.createElement("i");
    swatch.className = `sw ${e.swatch}`;
    swatch.style.setProperty("--c", e.color);
    item.append(swatch, e.label);
    return item;
  }), ...(hint ? [hint] : []));
}
