// Pointer input on the scene canvas (mouse, touch and pen alike, through pointer events): drag a sample,
// click empty space to add a pair (in add mode, or with Shift held), double-click a sample to remove its pair,
// or paint target points (brush mode).

/** How near (CSS pixels) a pointer must be to grab a sample; touch gets a larger target. */
const GRAB_RADIUS = { mouse: 10, pen: 12, touch: 22 };
/** A press that moves less than this (CSS pixels) is a click, not a drag. */
const CLICK_SLOP = 4;
/** Spacing (world units) between points painted by the brush. */
const BRUSH_SPACING = 0.08;

/**
 * @typedef {Object} PointerHandlers
 * @property {() => import("./view.js").View} view the current view
 * @property {() => {x0: number[][], x1: number[][], view: {layers: Record<string, boolean>}}} state
 * @property {() => boolean} brushing whether the brush is on
 * @property {() => boolean} adding whether add mode is on (a click on empty space adds a pair)
 * @property {() => boolean} mayEdit whether a grabbed sample may be dragged now (false while the page asks first)
 * @property {(cloud: string, index: number, x: number, y: number, time: number) => void} move a dragged sample moved
 * @property {(cloud: string, index: number, from: number[], to: number[]) => void} dragEnd the drag is over
 * @property {(x: number, y: number) => void} add a click on empty space in add mode or with Shift
 * @property {(index: number) => void} remove a double-click on a sample of pair `index`
 * @property {(points: number[][]) => void} paint a finished brush stroke
 * @property {(points: number[][]) => void} paintPreview the brush stroke so far
 * @property {(hit: {cloud: string, index: number} | null) => void} highlight the sample under the pointer
 */

/** The sample nearest to (cssX, cssY) within `radius`, data samples first when they overlap. */
export function hitTest(view, state, cssX, cssY, radius) {
  let best = null;
  let bestDist = radius;
  for (const cloud of ["x1", "x0"]) {
    state[cloud].forEach((p, index) => {
      const [px, py] = view.toCss(p[0], p[1]);
      const d = Math.hypot(px - cssX, py - cssY);
      if (d < bestDist) {
        bestDist = d;
        best = { cloud, index };
      }
    });
  }
  return best;
}

/**
 * Attach pointer handling to `canvas`.
 * @param {HTMLCanvasElement} canvas
 * @param {PointerHandlers} on
 */
export function attachPointer(canvas, on) {
  /**
   * The press in progress: the sample grabbed (if any), where it started, the last dragged position, and
   * the brush stroke when painting.
   * @type {{id: number, hit: {cloud: string, index: number} | null, from: number[], last: number[], start: number[],
   *   moved: boolean, stroke: number[][] | null, adds: boolean} | null}
   */
  let press = null;

  const local = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };

  canvas.addEventListener("pointerdown", (event) => {
    if (press || (event.pointerType === "mouse" && event.button !== 0)) return;
    const [cx, cy] = local(event);
    const view = on.view();
    const state = on.state();
    const world = view.toWorld(cx, cy);
    const hit = on.brushing() || !state.view.layers.samples
      ? null
      : hitTest(view, state, cx, cy, GRAB_RADIUS[event.pointerType] || GRAB_RADIUS.mouse);
    if (hit && !on.mayEdit()) {
      event.preventDefault();
      return;
    }
    press = {
      id: event.pointerId,
      hit,
      from: hit ? [...state[hit.cloud][hit.index]] : world,
      last: world,
      start: [cx, cy],
      moved: false,
      stroke: on.brushing() ? [world] : null,
      adds: on.adding() || event.shiftKey,
    };
    canvas.setPointerCapture(event.pointerId);
    if (hit) {
      canvas.classList.add("dragging");
      on.highlight(hit);
    }
    event.preventDefault();
  });

  canvas.addEventListener("pointermove", (event) => {
    const [cx, cy] = local(event);
    const view = on.view();
    if (!press) {
      const hit = on.state().view.layers.samples ? hitTest(view, on.state(), cx, cy, GRAB_RADIUS.mouse) : null;
      canvas.classList.toggle("over-point", Boolean(hit));
      on.highlight(hit);
      return;
    }
    if (event.pointerId !== press.id) return;
    if (Math.hypot(cx - press.start[0], cy - press.start[1]) > CLICK_SLOP) press.moved = true;
    const [x, y] = view.toWorld(cx, cy);
    if (press.stroke) {
      const last = press.stroke[press.stroke.length - 1];
      if (Math.hypot(x - last[0], y - last[1]) >= BRUSH_SPACING) press.stroke.push([x, y]);
      on.paintPreview(press.stroke);
    } else if (press.hit && press.moved) {
      press.last = [x, y];
      on.move(press.hit.cloud, press.hit.index, x, y, event.timeStamp);
    }
  });

  const finish = (event, cancelled) => {
    if (!press || event.pointerId !== press.id) return;
    const p = press;
    press = null;
    canvas.classList.remove("dragging");
    if (p.hit && p.moved) {
      on.dragEnd(p.hit.cloud, p.hit.index, p.from, p.last);
    } else if (cancelled) {
      on.paintPreview([]);
    } else if (p.stroke) {
      on.paint(p.stroke);
    } else if (!p.hit && !p.moved && p.adds) {
      on.add(...on.view().toWorld(...local(event)));
    }
  };
  canvas.addEventListener("pointerup", (event) => finish(event, false));
  canvas.addEventListener("pointercancel", (event) => finish(event, true));

  canvas.addEventListener("dblclick", (event) => {
    const [cx, cy] = local(event);
    const hit = hitTest(on.view(), on.state(), cx, cy, GRAB_RADIUS.mouse);
    if (hit) on.remove(hit.index);
  });
}
