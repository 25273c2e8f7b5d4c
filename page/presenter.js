// Presenter mode's keys (page/presenter.py), installed once per browser tab: Space plays and pauses the stage's
// animation, ← and → step one frame. Keys typed into a text box, a number box or a menu stay there. PageDown and
// PageUp press the scene bar's own buttons (clicker.js). Plotly is the page's own global.
//
// A chart that leaves the page while it plays (a new scene, a new theme) is purged by Streamlit, but Plotly's
// animation loop keeps its own reference and then throws on every frame: purging first stops that loop.
// Plotly rejects the promise of an animation that another one interrupts, with no reason, and its own Play and
// Pause buttons leave that rejection unhandled ("Uncaught (in promise) undefined" at every pause). So the keys
// call Plotly.animate with the buttons' own arguments and catch the rejection, and the one an interrupted
// button-started animation (the autoplay, a click on Play) leaves is marked handled.
(function () {
  if (window.__lucky5Keys) return;
  window.__lucky5Keys = true;
  // Projector scale: the stage's chart is laid out for a 1280x720 screen (18 px text at the least) and drawn larger
  // on a larger one, every part of it alike, as the sentences above it grow (presenter.css reads the factor).
  // A uniform scale keeps the chart's proportions (the valley's share of its height, the buttons beside the slider)
  // exactly those of 1280x720; Plotly maps the pointer through a CSS transform, so hover and the slider still work.
  // A phone (presenter.css's narrow layout) shows the same chart laid out PHONE_LAYOUT_PX wide, shrunk to its width
  // (the page's side padding taken off): narrower, its two columns and controls would overlap; wider, it was cut.
  const PHONE_MAX_PX = 736, PHONE_LAYOUT_PX = 720, PHONE_PADDING_PX = 32;
  const zoom = () => document.documentElement.style.setProperty('--lucky5-zoom', String(innerWidth < PHONE_MAX_PX
    ? (innerWidth - PHONE_PADDING_PX) / PHONE_LAYOUT_PX
    : Math.max(1, Math.min(innerWidth / 1280, innerHeight / 720))));
  zoom();
  window.addEventListener('resize', zoom);
  (function guard(n) {
    const plotly = window.Plotly;
    if (!plotly || !plotly.purge) { if (n > 0) setTimeout(() => guard(n - 1), 250); return; }
    if (plotly.purge.__lucky5) return;
    const purge = plotly.purge;
    plotly.purge = Object.assign(function (gd) {
      const loop = gd && gd._transitionData;
      if (loop && loop._animationRaf) {
        window.cancelAnimationFrame(loop._animationRaf);
        loop._animationRaf = null;
        loop._frameQueue = [];
      }
      return purge.apply(this, arguments);
    }, {__lucky5: true});
  })(240);
  // Streamlit may also replace a playing chart without purging it (the next scene's figure in the same place);
  // so a scene change's own key or click stops every running loop first, before the page redraws.
  const stopAll = () => document.querySelectorAll('.js-plotly-plot').forEach((gd) => {
    const loop = gd._transitionData;
    if (loop && loop._animationRaf) {
      window.cancelAnimationFrame(loop._animationRaf);
      loop._animationRaf = null;
      loop._frameQueue = [];
    }
  });
  // A click on Back or Next, a person's or the clicker's (clicker.js presses them), stops them first.
  const onSceneButton = (e) => {
    if (e.target && e.target.closest && e.target.closest('[class*="st-key-scene_"] button')) stopAll();
  };
  document.addEventListener('pointerdown', onSceneButton, true);
  document.addEventListener('click', onSceneButton, true);
  const chart = () => document.querySelector('[class*="st-key-stage_chart"] .js-plotly-plot');
  const typing = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
                              || (t.getAttribute && t.getAttribute('role') === 'combobox'));
  const playing = (gd) => !!(gd._transitionData && gd._transitionData._animationRaf);
  let interrupted = -Infinity;  // when a key last stopped or replaced an animation
  window.addEventListener('unhandledrejection', (e) => {
    if (e.reason === undefined && performance.now() - interrupted < 2000) e.preventDefault();
  });
  const animate = (gd, frames, options) => {
    interrupted = performance.now();
    window.Plotly.animate(gd, frames, options).catch(() => {});
  };
  const button = (gd, label) => (gd.layout.updatemenus || []).flatMap((m) => m.buttons || [])
      .find((b) => String(b.label || '').replace(/^\W*/, '').trim() === label);
  const press = (gd, label) => {
    const b = button(gd, label);
    if (b && b.args) animate(gd, b.args[0], b.args[1]);
  };
  const step = (gd, by) => {
    const slider = (gd.layout.sliders || [])[0];
    if (!slider || !slider.steps || !slider.steps.length) return;
    if (playing(gd)) press(gd, 'Pause');
    const i = Math.max(0, Math.min(slider.steps.length - 1, (slider.active || 0) + by));
    const name = slider.steps[i].args[0][0];
    animate(gd, [name], {mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0}});
  };
  document.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    const gd = chart();
    if (!gd || !gd.layout || !window.Plotly || !(gd.layout.sliders || []).length) return;
    if (e.key === ' ' || e.code === 'Space') {
      e.preventDefault();
      press(gd, playing(gd) ? 'Pause' : 'Play');
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      step(gd, e.key === 'ArrowRight' ? 1 : -1);
    }
  }, true);
})();
