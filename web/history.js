// Nothing lost (docs/web.md): an action that would drop trained rounds asks first. The server keeps no copy of a
// dropped round's net, so "undo with the rounds back" would mean retraining them; a question costs one click
// and loses nothing. Every round-dropping action asks: a new seed, point count, preset, net shape, a training
// setting or an edit (drag, add, remove, undo / redo, brush stroke) while an earlier round is shown, and Reflow
// or Distill from an earlier round. Going ahead once lets the edits of that drag or that round list through.

const $ = (id) => document.getElementById(id);

export class RoundGuard {
  constructor() {
    /** the rounds (names joined) the user already agreed to drop, so one drag does not ask at every move */
    this.agreed = null;
    /** the question on screen, if any */
    this.pending = null;
  }

  /**
   * Whether `action` may go ahead at once: true when it drops no round, or the user already agreed to drop the
   * same rounds; false while it must ask first.
   * @param {string[]} names the session's round names, in order
   * @param {number} keep how many rounds survive the action
   */
  allows(names, keep) {
    return names.length <= keep || this.agreed === names.join("|");
  }

  /**
   * Ask whether to go ahead with an action that keeps only the first `keep` rounds.
   * @param {string} what the action, as a phrase ("a new seed", "editing the scene on 1-RF")
   * @param {string[]} names the session's round names, in order
   * @param {number} keep how many rounds survive it
   * @param {string} restarts a note on what starts over (e.g. "1-RF starts again from fresh weights"), or ""
   * @returns {Promise<boolean>} true to go ahead
   */
  async confirm(what, names, keep, restarts = "") {
    if (this.allows(names, keep)) return true;
    if (this.pending) return false;
    const dropped = names.slice(keep);
    const dialog = /** @type {HTMLDialogElement} */ ($("drop-rounds"));
    const list = dropped.length === 1 ? dropped[0] : `${dropped.slice(0, -1).join(", ")} and ${dropped.at(-1)}`;
    $("drop-rounds-text").textContent = `${capitalize(what)} drops the trained ${dropped.length === 1 ? "round" : "rounds"} ${list}.`
      + `${restarts ? ` ${restarts}.` : ""} They cannot be brought back except by training them again.`;
    $("drop-rounds-go").textContent = `Drop ${list}`;
    dialog.returnValue = "";
    this.pending = new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "drop"), { once: true });
    });
    dialog.showModal();
    const go = await this.pending;
    this.pending = null;
    if (go) this.agreed = names.join("|");
    return go;
  }
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
