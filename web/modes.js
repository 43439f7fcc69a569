// Presenter mode (?present=1, or the P key): large type and marks, only Play / Reflow / Start over and the tour.
// Embed mode (?embed=1) for course pages: the figure and the controls named in ?controls= (default: play,reflow).

const params = new URLSearchParams(location.search);

/** The controls an embed may show, by the name used in ?controls=, and the element each one is. */
export const EMBED_CONTROLS = Object.freeze({
  play: "play",
  time: "time-control",
  reflow: "quick-reflow",
  distill: "quick-distill",
  reset: "quick-reset",
  tour: "quick-tour",
  rounds: "rounds",
  legend: "legend",
});
const DEFAULT_EMBED = ["play", "reflow"];
/** Lines are drawn this much thicker in presenter mode (dots by its square root: draw.js). */
const PRESENT_MARKS = 2;

/**
 * @typedef {Object} ModeActions
 * @property {() => void} reflow @property {() => void} distill @property {() => void} reset
 * @property {() => void} tour @property {() => void} relayout the canvas size or the mark scale changed
 */

/** The quick bar (Reflow, Distill, Start over, Tour) beside Play, shown in presenter and embed modes. */
function quickBar(actions) {
  const bar = document.createElement("span");
  bar.id = "quickbar";
  const button = (id, text, title, action, primary = false) => {
    const b = document.createElement("button");
    b.type = "button";
    b.id = id;
    b.textContent = text;
    b.title = title;
    if (primary) b.className = "primary";
    b.addEventListener("click", action);
    return b;
  };
  bar.append(
    button("quick-reflow", "Reflow", "train the next round on the pairs (x0, z1) this flow makes: straighter paths", actions.reflow, true),
    button("quick-distill", "Distill", "train a network that makes each sample in one step", actions.distill),
    button("quick-reset", "Start over", "drop every round and train 1-RF again on these points", actions.reset),
    button("quick-tour", "Tour", "the guided lesson in eight short steps", actions.tour),
  );
  const time = document.getElementById("t").closest("label");
  time.id = "time-control";
  document.getElementById("timebar").append(bar);
}

/** Read the link's mode, build the quick bar and bind the P key. */
export function installModes(actions) {
  quickBar(actions);
  const embed = params.get("embed") === "1";
  if (embed) {
    document.body.classList.add("embed");
    const wanted = (params.get("controls") ?? DEFAULT_EMBED.join(",")).split(",").map((s) => s.trim());
    for (const [name, id] of Object.entries(EMBED_CONTROLS)) {
      document.getElementById(id)?.classList.toggle("embed-shown", wanted.includes(name));
    }
  } else if (params.get("present") === "1") {
    document.body.classList.add("present");
  }
  document.addEventListener("keydown", (event) => {
    if (embed || event.ctrlKey || event.metaKey || event.altKey || event.target.closest?.("input, select, textarea")) return;
    if (event.key === "p" || event.key === "P") {
      document.body.classList.toggle("present");
      actions.relayout();
      event.preventDefault();
    }
  });
}

/** The page's mode now: "present", "embed" or "normal". */
export function currentMode() {
  if (document.body.classList.contains("embed")) return "embed";
  return document.body.classList.contains("present") ? "present" : "normal";
}

/** How much larger marks are drawn in the current mode. */
export function markScale() {
  return currentMode() === "present" ? PRESENT_MARKS : 1;
}

/** Whether the link asks for the tour (?lesson=1). */
export function lessonLinked() {
  return params.get("lesson") === "1";
}

/** Whether the introduction may show (not in an embed, on a projector or when the link opens the tour). */
export function introAllowed() {
  return currentMode() === "normal" && !lessonLinked();
}
