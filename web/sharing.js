// What leaves the page at the user's request: a share link (copied, or offered in a box) and the exports.

import { exportCsv, exportJson, exportPng, exportWebm, exportWeights } from "./export.js";
import { makeLink, planOf } from "./link.js";

const $ = (id) => document.getElementById(id);

/** How long "link copied" stays up. */
const COPIED_MS = 4000;
let copiedTimer = null;

/** @param {import("./app.js").App} app */
export async function share(app) {
  const status = $("share-status");
  try {
    const shown = app.randomView ? "random" : app.snapshot?.round ?? 0;
    const plan = { chain: planOf(app.snapshot?.rounds ?? []), shown, compared: app.compared };
    const url = await makeLink(app.state, () => ({ ...app.scenes.message(), kind: "points" }), app.session.configPatch(), plan);
    app.sharedUrl = url;
    const copied = await navigator.clipboard?.writeText(url).then(() => true, () => false);
    // copied: say so; else offer the link in a box, selected, to copy by hand
    const box = /** @type {HTMLInputElement} */ ($("share-link"));
    box.hidden = Boolean(copied);
    status.textContent = copied ? "link copied" : "copy this link:";
    status.dataset.state = copied ? "copied" : "manual";
    if (!copied) {
      box.value = url;
      box.select();
    }
    clearTimeout(copiedTimer);
    if (copied) copiedTimer = setTimeout(() => (status.textContent = ""), COPIED_MS);
  } catch (error) {
    app.showError(`sharing failed: ${error.message}`);
  }
}

/**
 * @param {import("./app.js").App} app
 * @param {string} format one of png, webm, json, csv, weights
 */
export function exportAs(app, format) {
  const layers = [app.canvases.particles, app.canvases.scene];
  if (format === "png") exportPng(layers);
  else if (format === "webm") exportWebm(layers);
  else if (format === "json") exportJson(app.state, app.flow);
  else if (format === "csv") exportCsv(app.state, app.flow);
  else if (format === "weights") {
    const stored = app.roundWeights.get(app.snapshot?.round);
    if (stored) exportWeights(stored.weights, stored.net, app.snapshot.round);
  }
}
