// Plain explanations for every control, column, badge and panel, carried in `title` (the accessible description,
// read by screen readers) and shown in a small tip on focus or tap; the advanced settings fold under "Advanced";
// the technical badges move to a quiet status line at the foot of the page.

/** Explanations by element id. */
const BY_ID = {
  source: "the noise every path starts from (t = 0)",
  target: "the data the flow should learn to produce (t = 1)",
  placement: "side by side: the noise drawn on the left and the data on the right, so the paths read left to right "
    + "(as in the paper's figures); on top of each other: both around the middle",
  n: "how many noise / data pairs the scene has; fewer points train faster",
  seed: "the random seed of the scene's points and of the network's first weights",
  "new-seed": "draw a fresh scene with the next seed",
  brush: "paint your own data with the pointer; the painted points become the target",
  mode: "pairs: train on the points you see; online: train on fresh random samples every step",
  coupling: "how noise and data are paired for the first round: at random, or by optimal transport (the pairing with the least total squared distance, whose straight paths do not meet)",
  width: "neurons per hidden layer of the velocity network; wider learns finer detail, slower",
  depth: "hidden layers of the velocity network",
  activation: "the network's nonlinearity",
  lr: "learning rate: how big each training step is; too big and training blows up",
  time_sampling: "which times t training looks at most: evenly (uniform), near the ends (warp) or the middle (logit-normal)",
  warp_s: "slope of the time warp: below 1 puts more solver steps near t = 0 and t = 1, 1 spaces them evenly",
  solver: "how the page follows the flow: Euler takes one velocity per step, midpoint two, RK4 four (more accurate)",
  steps: "how many solver steps from t = 0 to t = 1; straighter flows need fewer",
  reflow: "train the next round on the pairs (x0, z1) this flow makes: the paths get straighter (key R)",
  distill: "train a network that jumps from x0 to this round's z1 in one step",
  "train-toggle": "pause or resume the server's training",
  "compare-round": "draw another round beside this one",
  field: "draw the learned velocity at the current t as arrows or streamlines",
  "particle-count": "how many extra particles the browser moves through the flow (empty: automatic)",
  share: "copy a link that opens this scene and these settings",
  undo: "undo the last point edit (Ctrl+Z)",
  redo: "redo the edit you undid (Ctrl+Shift+Z)",
  "export-png": "save the canvas as a PNG image",
  "export-webm": "record four seconds of the canvas as a WebM video",
  "export-json": "save the points and their paths as JSON",
  "export-csv": "save the points and their paths as CSV",
  "export-weights": "save this round's network weights as JSON",
  "help-button": "keyboard shortcuts (?)",
  play: "play or pause time t (space)",
  t: "time t: 0 is the noise, 1 the end of the paths (← → scrub)",
  loop: "start again at t = 0 after t = 1",
  speed: "how fast time runs while playing",
  "badge-server": "where the server trains the network (CPU or GPU)",
  "badge-busy": "the server is busy: while you drag, paths are traced with a cheaper solver",
  "badge-browser": "where your browser moves the particles and evaluates the field (WebGPU or plain JavaScript)",
  "badge-latency": "time from your drag to the retrained flow showing it (last, and the median of the last 50)",
  "badge-fps": "frames drawn per second",
  rounds: "the rounds: the random pairing, the flow learned from it (1-RF), and each Reflow or Distill after it",
  "loss-plot": "the training loss of each round: how far the network's velocity is from the pairs' directions",
  "steps-plot": "sample quality against sampling cost: each round's W2 to the target after 1, 2, 4 and 8 Euler steps (log axes), the floor dashed; a straight round's line is flat",
};

/** Layer checkboxes by their data-layer. */
const LAYERS = {
  samples: "the noise dots x0 (blue) and data dots x1 (orange)",
  pairs: "grey lines joining each noise dot to the data dot it is paired with",
  trajectories: "the path each noise dot takes through the learned flow",
  moving: "black dots riding the paths at the current time t",
  endpoints: "rings where each path ends: the new samples z1",
  newPairs: "green dashes from each x0 to its own z1: the pairs Reflow trains on next",
  particles: "many extra noise samples moved through the flow in your browser",
};

/** Table columns and panels by their text. */
const BY_TEXT = {
  round: "the random pairing, then each trained round",
  "crossing %": "share of pairs of straight segments (x0 to the pair's end) that cross: 0 means no paths would cross",
  cost: "transport cost: the mean squared length of the pairs' segments, E‖z1 − x0‖²",
  straightness: "how far the paths are from straight lines (0 is perfectly straight)",
  Loss: "the training loss over time, one line per round",
  Rounds: "the numbers of each round side by side",
  "Error vs. steps": "how close a few large steps land to the many-step paths",
  "W2 vs. Euler steps": "how close each round's samples are to the data (W2, lower is closer) when made with 1, 2, 4 or 8 Euler steps",
  "Sample quality by steps": "the samples each round makes with 1, 2, 4 and 8 Euler steps and with the chosen solver, with their W2 to the data",
  Scene: "the points the flow is trained on",
  Network: "the velocity network's size",
  Solver: "how paths are followed from t = 0 to t = 1",
  View: "what is drawn",
  "Share & export": "links, undo and files",
  Advanced: "settings most people can leave alone",
};

/** Settings folded under "Advanced". */
const ADVANCED = ["depth", "activation", "lr", "time_sampling", "warp_s"];

/** Explain every control; fold the advanced settings; move the technical badges to the status line. */
export function installHelp() {
  foldAdvanced();
  quietBadges();
  explain(document);
  const tip = document.createElement("div");
  tip.id = "tip";
  tip.className = "tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.append(tip);
  let timer = null;
  const show = (event) => {
    const target = event.target.closest?.("[title]");
    if (!target || !target.title || target === document.body) return;
    tip.textContent = target.title;
    const rect = target.getBoundingClientRect();
    tip.style.left = `${Math.max(4, Math.min(window.innerWidth - 260, rect.left + window.scrollX))}px`;
    tip.style.top = `${rect.bottom + window.scrollY + 4}px`;
    tip.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(() => (tip.hidden = true), 4000);
  };
  // Focus (keyboard) and touch taps show the tip; a mouse has the browser's own title tooltip.
  document.addEventListener("focusin", (event) => {
    if (event.target.matches?.(":focus-visible")) show(event);
  });
  document.addEventListener("pointerdown", (event) => event.pointerType === "touch" && show(event));
  // Tabs and other controls made later (round tabs, the table's rows) get theirs when they appear.
  new MutationObserver(() => explain(document)).observe(document.getElementById("stage"), { childList: true, subtree: true });
}

/** Set the explanation of every known element that has none yet (or a technical one). */
export function explain(root) {
  for (const [id, text] of Object.entries(BY_ID)) {
    const el = root.getElementById?.(id);
    if (el && el.title !== text) el.title = text;
  }
  for (const box of document.querySelectorAll("[data-layer]")) {
    const text = LAYERS[box.dataset.layer];
    if (text) box.title = box.closest("label").title = text;
  }
  for (const el of document.querySelectorAll("th, .panel h2, fieldset > legend, #advanced > summary")) {
    const text = BY_TEXT[el.textContent.trim()];
    if (text && !el.title) el.title = text;
  }
  for (const close of document.querySelectorAll("dialog form[method=dialog] button")) close.title ||= "close this window";
  for (const input of document.querySelectorAll("#controls label > input, #controls label > select, #timebar label > input, #timebar label > select")) {
    const label = input.closest("label");
    if (input.title && !label.title) label.title = input.title;
  }
}

function foldAdvanced() {
  const details = document.createElement("details");
  details.id = "advanced";
  details.className = "advanced";
  const summary = document.createElement("summary");
  summary.textContent = "Advanced";
  details.append(summary);
  for (const id of ADVANCED) {
    const label = document.getElementById(id)?.closest("label");
    if (label) details.append(label);
  }
  const solver = document.getElementById("solver")?.closest("fieldset");
  solver?.after(details);
}

function quietBadges() {
  const footer = document.createElement("footer");
  footer.id = "status";
  footer.className = "status";
  footer.setAttribute("aria-label", "technical status");
  for (const id of ["badge-server", "badge-browser", "badge-latency", "badge-fps"]) {
    const badge = document.getElementById(id);
    if (badge) footer.append(badge);
  }
  document.body.append(footer);
}
