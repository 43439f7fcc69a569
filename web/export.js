// Exports: PNG of the canvas, a WebM recording of the animation, the scene and trajectories as JSON / CSV,
// and the weights.

import { trajectoryOf } from "./trajectories.js";

/** Offer `blob` as a download named `name`. */
function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The layers (white background, particles, scene) flattened onto one canvas. */
export function composite(layers, target = document.createElement("canvas")) {
  const [first] = layers;
  if (target.width !== first.width || target.height !== first.height) {
    target.width = first.width;
    target.height = first.height;
  }
  const ctx = target.getContext("2d");
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, target.width, target.height);
  for (const layer of layers) ctx.drawImage(layer, 0, 0);
  return target;
}

export function exportPng(layers) {
  composite(layers).toBlob((blob) => blob && download(blob, "rftoy.png"), "image/png");
}

/**
 * Record `seconds` of the animation as WebM (the composite redrawn every frame).
 * @returns {Promise<void>} resolves once the file is offered
 */
export function exportWebm(layers, seconds = 4) {
  const canvas = composite(layers);
  const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: "video/webm" });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  let recording = true;
  const frame = () => {
    if (!recording) return;
    composite(layers, canvas);
    requestAnimationFrame(frame);
  };
  return new Promise((resolve) => {
    recorder.onstop = () => {
      download(new Blob(chunks, { type: "video/webm" }), "rftoy.webm");
      resolve();
    };
    recorder.start();
    frame();
    setTimeout(() => {
      recording = false;
      recorder.stop();
    }, seconds * 1000);
  });
}

/**
 * The scene and its flow as one object (settings, points, trajectories on the time grid, endpoints).
 * @param {import("./state.js").SceneState} state
 * @param {import("./draw.js").Flow | null} flow
 */
export function sceneData(state, flow) {
  const trajectories = flow ? Array.from({ length: flow.n }, (_, i) => trajectoryOf(flow, i)) : [];
  return {
    settings: state.settings,
    x0: state.x0,
    x1: state.x1,
    times: flow ? Array.from(flow.times) : [],
    trajectories,
    z1: trajectories.map((path) => path[path.length - 1]),
  };
}

export function exportJson(state, flow) {
  download(new Blob([JSON.stringify(sceneData(state, flow))], { type: "application/json" }), "rftoy-scene.json");
}

/** One row per sample and trajectory time: i, k, t, x, y, plus its x0, x1 pair. */
export function exportCsv(state, flow) {
  const data = sceneData(state, flow);
  const rows = ["i,k,t,x,y,x0_x,x0_y,x1_x,x1_y"];
  data.trajectories.forEach((path, i) => {
    path.forEach(([x, y], k) => {
      rows.push([i, k, data.times[k], x, y, ...data.x0[i], ...data.x1[i]].join(","));
    });
  });
  download(new Blob([`${rows.join("\n")}\n`], { type: "text/csv" }), "rftoy-trajectories.csv");
}

/** The flat weights (docs/engine.md, "Weight layout") with the net's shape, as JSON. */
export function exportWeights(weights, net, round) {
  const body = JSON.stringify({ layout: "per layer: W (out × in, row-major) then b; input (x, y, t)", round, net, weights: Array.from(weights) });
  download(new Blob([body], { type: "application/json" }), `rftoy-weights-round${round}.json`);
}
