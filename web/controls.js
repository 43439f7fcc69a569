// The control panel, the time bar, the round tabs and the keyboard: DOM ↔ state, and actions to the app.

import { SETTINGS } from "./settings.js";

const $ = (id) => document.getElementById(id);

/**
 * @typedef {Object} ControlActions
 * @property {(key: string, value: string | number) => void} setting a training setting changed
 * @property {() => void} viewChanged a view setting (layers, field, particles, speed, loop) changed
 * @property {(t: number) => void} scrub the t slider moved
 * @property {() => void} togglePlay
 * @property {() => void} newSeed
 * @property {(on: boolean) => void} brush brush mode on or off
 * @property {(on: boolean) => void} addMode add mode on or off
 * @property {() => void} brushUndo take back the last brush stroke
 * @property {() => void} brushClear remove every brush stroke
 * @property {() => void} reflow
 * @property {() => void} distill
 * @property {() => void} toggleTraining pause or resume the server's training
 * @property {(round: number | "random") => void} selectRound a round's tab, or the random pairing's
 * @property {(round: number | null) => void} compare
 * @property {() => void} share
 * @property {() => void} undo
 * @property {() => void} redo
 * @property {(format: string) => void} export one of png, webm, json, csv, weights
 */

/**
 * Wire every control to `actions`; values are read from and written to `state`.
 * @param {import("./state.js").SceneState} state
 * @param {ControlActions} actions
 */
export function bindControls(state, actions) {
  for (const { key, type } of SETTINGS) {
    const input = $(key);
    input.addEventListener("change", () => {
      const numeric = type === "number";
      const value = numeric ? Number(input.value) : input.value;
      const refused = numeric && !Number.isFinite(value);
      if (refused) input.value = String(state.settings[key]);
      input.dataset.synced = input.value; // committed: from now on the settings may overwrite it
      if (!refused) actions.setting(key, value);
    });
  }
  for (const box of document.querySelectorAll("[data-layer]")) {
    box.addEventListener("change", () => {
      state.view.layers[box.dataset.layer] = box.checked;
      actions.viewChanged();
    });
  }
  $("field").addEventListener("change", () => {
    state.view.field = $("field").value;
    actions.viewChanged();
  });
  $("particle-count").addEventListener("change", () => {
    state.view.particles = Math.max(0, Math.min(100000, Math.round(Number($("particle-count").value) || 0)));
    actions.viewChanged();
  });
  $("speed").addEventListener("change", () => {
    state.view.speed = Number($("speed").value);
    actions.viewChanged();
  });
  $("loop").addEventListener("change", () => {
    state.view.loop = $("loop").checked;
    actions.viewChanged();
  });
  $("t").addEventListener("input", () => actions.scrub(Number($("t").value)));
  $("play").addEventListener("click", actions.togglePlay);
  $("new-seed").addEventListener("click", actions.newSeed);
  $("brush").addEventListener("click", () => {
    const on = $("brush").getAttribute("aria-pressed") !== "true";
    $("brush").setAttribute("aria-pressed", String(on));
    actions.brush(on);
  });
  $("add-mode").addEventListener("click", () => actions.addMode($("add-mode").getAttribute("aria-pressed") !== "true"));
  $("brush-undo").addEventListener("click", actions.brushUndo);
  $("brush-clear").addEventListener("click", actions.brushClear);
  $("brush-done").addEventListener("click", () => actions.brush(false));
  $("reflow").addEventListener("click", actions.reflow);
  $("distill").addEventListener("click", actions.distill);
  $("train-toggle").addEventListener("click", actions.toggleTraining);
  $("compare-round").addEventListener("change", () => {
    const value = $("compare-round").value;
    actions.compare(value === "" ? null : Number(value));
  });
  $("share").addEventListener("click", actions.share);
  $("undo").addEventListener("click", actions.undo);
  $("redo").addEventListener("click", actions.redo);
  for (const format of ["png", "webm", "json", "csv", "weights"]) {
    $(`export-${format}`).addEventListener("click", () => actions.export(format));
  }
  $("help-button").addEventListener("click", () => $("help").showModal());
  $("rounds").addEventListener("click", (event) => {
    const round = event.target.closest("button")?.dataset.round;
    if (round !== undefined) actions.selectRound(round === "random" ? "random" : Number(round));
  });
  bindKeyboard(state, actions);
}

function bindKeyboard(state, actions) {
  document.addEventListener("keydown", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest("input, select, textarea") && target.getAttribute("type") !== "range" && target.getAttribute("type") !== "checkbox") return;
    const key = event.key;
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") {
      if (event.shiftKey) actions.redo();
      else actions.undo();
    } else if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "y") {
      actions.redo();
    } else if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    } else if (key === " ") {
      actions.togglePlay();
    } else if (key === "r" || key === "R") {
      actions.reflow();
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      const step = event.shiftKey ? 0.1 : 0.02;
      actions.scrub(Math.min(1, Math.max(0, state.view.t + (key === "ArrowLeft" ? -step : step))));
    } else if (key === "?") {
      $("help").showModal();
    } else {
      return;
    }
    event.preventDefault();
  });
}

/** Fill the preset selects (once the server has named its presets). */
export function setPresets(presets) {
  for (const id of ["source", "target"]) {
    $(id).replaceChildren(...presets.map((name) => new Option(name, name)));
  }
}

/** Write the state into every control (a setting without a value yet, before the server is ready, is left). */
export function syncControls(state) {
  for (const { key } of SETTINGS) {
    if (state.settings[key] === undefined) continue;
    const input = $(key);
    const value = String(state.settings[key]);
    // A box the user is typing in keeps what they typed until they commit it (a reply to another change
    // must not overwrite it); once committed, or refused by the server, it shows the settings again.
    if (input === document.activeElement && input.value !== input.dataset.synced) continue;
    if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === value)) {
      input.append(new Option(value, value));
    }
    input.value = value;
    input.dataset.synced = value;
  }
  for (const box of document.querySelectorAll("[data-layer]")) box.checked = state.view.layers[box.dataset.layer];
  $("field").value = state.view.field;
  $("particle-count").value = state.view.particles ? String(state.view.particles) : "";
  $("speed").value = String(state.view.speed);
  $("loop").checked = state.view.loop;
  syncTime(state);
}

/** Write t and play / pause into the time bar. */
export function syncTime(state) {
  $("t").value = String(state.view.t);
  $("t-value").textContent = state.view.t.toFixed(2);
  $("play").textContent = state.view.playing ? "❚❚" : "▶";
}

/** A round tab's plain explanation. */
function roundTitle(round) {
  if (round.kind === "distill") return `${round.name}: a network that makes each sample in one step, taught by ${round.name.replace(/^distill /, "")}`;
  if (round.index === 0) return "1-RF: the flow learned from the random pairing";
  return `${round.name}: reflow round ${round.index}, trained on the pairs (x0, z1) of the round before`;
}

/**
 * The round tabs (the random pairing first) and the compare list.
 * @param {{index: number, name: string}[]} rounds
 * @param {number | "random"} current
 * @param {number | null} compared
 */
export function renderRounds(rounds, current, compared) {
  const tabs = [{ key: "random", name: "random", title: "the random pairing (x0, x1) and its straight, crossing paths" },
    ...rounds.map((r) => ({ key: String(r.index), name: r.name, title: roundTitle(r) }))];
  $("rounds").replaceChildren(
    ...tabs.map(({ key, name, title }) => {
      const tab = document.createElement("button");
      tab.type = "button";
      tab.dataset.round = key;
      tab.textContent = name;
      tab.title = title;
      tab.setAttribute("aria-selected", String(key === String(current)));
      return tab;
    }),
  );
  const select = $("compare-round");
  select.replaceChildren(new Option("—", ""), ...rounds.map((r) => new Option(r.name, String(r.index))));
  select.value = compared === null ? "" : String(compared);
}
