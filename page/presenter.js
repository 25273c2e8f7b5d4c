// Presenter mode's keys (page/presenter.py), installed once per browser tab: Space plays and pauses the stage's
// animation, ← and → step one frame. Keys typed into a text box, a number box or a menu stay there. PageDown and
// PageUp are the scene bar's own buttons (Streamlit's shortcuts). Plotly is the page's own global.
//
// A chart that leaves the page while it plays (a new scene, a new theme) is purged by Streamlit, but Plotly's
// animation loop keeps its own reference and then throws on every frame: purging first stops that loop.
(function () {
  if (window.__lucky5Keys) return;
  window.__lucky5Keys = true;
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
  const chart = () => document.querySelector('[class*="st-key-stage_chart"] .js-plotly-plot');
  const typing = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
                              || (t.getAttribute && t.getAttribute('role') === 'combobox'));
  const playing = (gd) => !!(gd._transitionData && gd._transitionData._animationRaf);
  const press = (gd, label) => {
    const b = [...gd.querySelectorAll('.updatemenu-button')].find(e => e.textContent.trim() === label);
    if (b) b.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  };
  const step = (gd, by) => {
    const slider = (gd.layout.sliders || [])[0];
    if (!slider || !slider.steps || !slider.steps.length) return;
    if (playing(gd)) press(gd, 'Pause');
    const i = Math.max(0, Math.min(slider.steps.length - 1, (slider.active || 0) + by));
    const name = slider.steps[i].args[0][0];
    window.Plotly.animate(gd, [name], {mode: 'immediate', frame: {duration: 0, redraw: false},
                                       transition: {duration: 0}});
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
