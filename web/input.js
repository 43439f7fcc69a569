// The user's input wired to the app: the pointer on the scene canvas (pointer.js), the controls and the
// keyboard (controls.js), and the probe (probe.js).

import { bindControls, syncTime } from "./controls.js";
import { attachPointer } from "./pointer.js";
import { Probe } from "./probe.js";
import { exportAs, share } from "./sharing.js";

const $ = (id) => document.getElementById(id);

/** @param {import("./app.js").App} app */
export function bindInput(app) {
  const { edits, state, tools } = app;
  const editing = (action) => app.guarded(app.editWords(), app.shownKeep(), action);
  app.probe = new Probe(app, $("probe"), $("probe-readout"));
  attachPointer(app.canvases.scene, {
    view: () => app.view,
    state: () => app.state,
    brushing: () => tools.brushing,
    adding: () => tools.adding,
    mayEdit: () => editing(() => undefined),
    move: (cloud, index, x, y, time) => edits.move(cloud, index, x, y, time),
    dragEnd: (cloud, index, from, to) => edits.endDrag(cloud, index, from, to),
    add: (x, y) => editing(() => edits.addPair(x, y)),
    remove: (index) => state.count > 1
      && editing(() => edits.commit({ kind: "remove", index, x0: state.x0[index], x1: state.x1[index] })),
    paint: (points) => tools.paint(points),
    paintPreview: (points) => tools.preview(points),
    highlight: (hit) => {
      if (hit?.cloud !== app.highlight?.cloud || hit?.index !== app.highlight?.index) app.dirty = true;
      app.highlight = hit;
    },
  });
  bindControls(state, {
    setting: (key, value) => app.changeSetting(key, value),
    viewChanged: () => {
      app.resetParticles();
      app.fieldKey = "";
      app.dirty = true;
    },
    scrub: (t) => {
      state.view.t = t;
      state.view.playing = false;
      syncTime(state);
    },
    togglePlay: () => {
      state.view.playing = !state.view.playing;
      if (state.view.playing && state.view.t >= 1) state.view.t = 0;
      syncTime(state);
    },
    newSeed: () => app.changeSetting("seed", (state.settings.seed + 1) % 2 ** 31),
    brush: (on) => tools.setBrush(on),
    addMode: (on) => tools.setAddMode(on),
    brushUndo: () => tools.undoStroke(),
    brushClear: () => tools.clearDrawing(),
    reflow: () => app.newRound("reflow"),
    distill: () => app.newRound("distill"),
    toggleTraining: () => {
      if (app.snapshot?.state !== "paused") app.connection.send({ type: "pause" });
      else app.guarded(`resuming training on ${app.shownName()}`, app.shownKeep(), () => app.connection.send({ type: "resume" }));
    },
    selectRound: (round) => app.selectRound(round),
    compare: (round) => app.roundList.compare(round),
    share: () => share(app),
    undo: () => {
      if (tools.brushing) tools.undoStroke();
      else if (state.undoStack.length) editing(() => edits.send(state.undo()));
    },
    redo: () => state.redoStack.length && editing(() => edits.send(state.redo())),
    export: (format) => exportAs(app, format),
  });
}
