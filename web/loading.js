// The canvas's loading state: what the page is waiting for until the first snapshot is drawn.

let box = null;

/** Say on the canvas what the page waits for; `null` hides the message. */
export function showLoading(text) {
  if (!box) {
    box = document.createElement("div");
    box.id = "loading";
    box.className = "loading";
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    document.getElementById("canvases").append(box);
  }
  box.hidden = text === null;
  if (text !== null) box.textContent = text;
}
