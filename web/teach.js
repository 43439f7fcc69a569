// Everything that helps a first-time visitor, wired to the app in one place: the introduction, the guided
// lesson, presenter and embed modes, explanations on every control, the legend and header buttons.

import { installHelp } from "./help.js";
import { Intro } from "./intro.js";
import { renderLegend } from "./legend.js";
import { Lesson } from "./lesson.js";
import { LESSON_SCENE } from "./lesson_steps.js";
import { currentMode, installModes, introAllowed, lessonLinked, markScale } from "./modes.js";

/** A ?lesson=1 link opens on the lesson's scene (so the session does not first train another one). */
export function prepareLinkedLesson(state) {
  if (lessonLinked()) Object.assign(state.settings, LESSON_SCENE);
}

/** @param {any} app the page's App (main.js) */
export function installTeaching(app) {
  const lesson = new Lesson(app);
  const intro = new Intro(() => startWhenReady(app, lesson));
  const stage = document.getElementById("stage");
  stage.prepend(intro.panel, lesson.panel);

  const header = document.querySelector("header .badges");
  const button = (id, text, title, action) => {
    const b = document.createElement("button");
    b.type = "button";
    b.id = id;
    b.textContent = text;
    b.title = title;
    b.addEventListener("click", action);
    header.prepend(b);
  };
  button("tour", "Tour", "a guided lesson in eight short steps", () => startWhenReady(app, lesson));
  button("about", "What is this?", "what the page shows, in one paragraph", () => intro.show());

  installModes({
    reflow: () => document.getElementById("reflow").click(),
    distill: () => document.getElementById("distill").click(),
    reset: () => app.startOver(),
    tour: () => startWhenReady(app, lesson),
    relayout: () => app.resize(),
  });
  installHelp();
  if (introAllowed()) intro.showIfNew();
  if (lessonLinked() && currentMode() !== "embed") startWhenReady(app, lesson);
  return {
    lesson,
    intro,
    /** Called after the scene is drawn: the lesson's marks and the legend. */
    draw(ctx, view) {
      lesson.draw(ctx, view);
      renderLegend(app.state.view, { oneStep: lesson.drawsOneStep, random: app.randomView });
    },
    markScale,
    summary: () => ({ mode: currentMode(), intro: !intro.panel.hidden, lesson: lesson.summary() }),
  };
}

/** Start the lesson once the session is ready (it sends the lesson's scene). */
function startWhenReady(app, lesson) {
  if (app.ready) {
    lesson.start();
    return;
  }
  const wait = setInterval(() => {
    if (!app.ready) return;
    clearInterval(wait);
    lesson.start();
  }, 100);
}
