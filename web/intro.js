// The first-visit introduction: what the page shows, in a short paragraph, and what to try first. Dismissed once,
// it stays away (localStorage); "What is this?" in the header brings it back.

/** The localStorage key that remembers a dismissed introduction. */
export const INTRO_KEY = "rftoy.intro.dismissed";
const PAPER = "https://arxiv.org/abs/2209.03003";

export class Intro {
  /** @param {() => void} startTour */
  constructor(startTour) {
    const panel = document.createElement("section");
    panel.id = "intro";
    panel.className = "intro";
    panel.setAttribute("aria-label", "introduction");
    panel.hidden = true;
    panel.innerHTML = `
      <div class="intro-head">
        <h2>What you are looking at</h2>
        <button type="button" id="intro-tour" class="primary" title="a guided lesson in eight short steps">Take the tour</button>
        <button type="button" id="intro-close" title="hide this introduction (it stays hidden next time)">Explore on my own</button>
      </div>
      <p>Blue dots (left) are noise samples <b>x0</b>; orange dots (right) are data samples <b>x1</b>. Each grey
        line pairs one noise dot with one data dot. <b>Rectified flow</b> trains a small network to carry noise to data: at every
        place and time it learns the average direction of the pairing lines passing there. The curves, sky blue
        turning orange, are the paths of that learned flow, the black dots ride along them as time t runs from 0 to 1, and each path
        ends at a new sample <b>z1</b>. Random pairs cross, so the learned paths bend. <b>Reflow</b> pairs each x0
        with its own z1 and trains again: the paths straighten until a single step is enough.</p>
      <p>Try first: take the two-minute tour, or drag a dot and watch the flow retrain.
        From the paper <a href="${PAPER}" target="_blank" rel="noopener">Flow Straight and Fast</a> (Liu, Gong and Liu, 2023).</p>`;
    panel.querySelector("#intro-tour").addEventListener("click", () => {
      this.dismiss();
      startTour();
    });
    panel.querySelector("#intro-close").addEventListener("click", () => this.dismiss());
    this.panel = panel;
  }

  /** Show it on a first visit (never dismissed here). */
  showIfNew() {
    if (!readFlag()) this.panel.hidden = false;
  }

  show() {
    this.panel.hidden = false;
    this.panel.scrollIntoView({ block: "nearest" });
  }

  dismiss() {
    this.panel.hidden = true;
    try {
      localStorage.setItem(INTRO_KEY, "1");
    } catch {
      // storage may be off (private mode); the introduction then shows again next time, which is harmless
    }
  }
}

function readFlag() {
  try {
    return localStorage.getItem(INTRO_KEY) === "1";
  } catch {
    return false;
  }
}
