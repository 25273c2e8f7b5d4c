/* The offline talk: one scene at a time, the keys of the page's presenter mode, no network.

   The document holds one <section class="scene"> per scene and, in #lucky5-talk-data, the figures as JSON
   with repeated arrays pooled once ({"@": i} stands for pool[i]; lucky5/talk/pool.py). A scene's chart is
   drawn when the scene is shown and purged when it is left. Keys: PageDown and PageUp (a clicker) change the
   scene, Space plays and pauses, ← and → step one frame. The address's #scene=N keeps the place across a
   reload; #scene=N&notes=1 is the speaker's view (notes, timer, next scene; no chart), which follows the
   projector's window and leads it (follow.js). With reduced motion asked for, nothing plays by itself. The
   charts take the viewer's colour scheme (prefers-color-scheme) and, on a phone, are shrunk to fit its width. */
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('lucky5-talk-data').textContent);
  const sections = [...document.querySelectorAll('section.scene')];
  const numbers = sections.map((s) => Number(s.dataset.scene));
  const reduced = window.matchMedia('(prefers-reduced-motion: reduce)');
  const PLAY = /^\W*Play\s*$/;
  const PAUSE = /^\W*Pause\s*$/;
  let current = null;
  let gd = null;
  let drawn = 0; // which show() the chart being drawn belongs to: a later scene wins over a slow earlier one

  const resolve = (v) => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '@') return resolve(data.pool[v['@']]);
      const out = {};
      for (const k of keys) out[k] = resolve(v[k]);
      return out;
    }
    return v;
  };

  const hashParams = () => new URLSearchParams(location.hash.replace(/^#/, ''));
  const speaker = hashParams().get('notes') === '1';
  document.body.classList.toggle('speaker', speaker);

  const playing = (g) => !!(g && g._transitionData && g._transitionData._animationRaf);
  // Plotly's animation loop outlives a purged chart and throws on every frame after: stop it first.
  const purge = (g) => {
    const loop = g._transitionData;
    if (loop && loop._animationRaf) {
      window.cancelAnimationFrame(loop._animationRaf);
      loop._animationRaf = null;
    }
    window.Plotly.purge(g);
  };
  const press = (g, label) => {
    const b = [...g.querySelectorAll('.updatemenu-button')].find((e) => label.test(e.textContent.trim()));
    if (b) b.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  };
  const step = (g, by) => {
    const slider = (g.layout.sliders || [])[0];
    if (!slider || !slider.steps || !slider.steps.length) return;
    if (playing(g)) press(g, PAUSE);
    const i = Math.max(0, Math.min(slider.steps.length - 1, (slider.active || 0) + by));
    // Plotly rejects the promise of a frame that a newer one interrupts, with nothing (an uncaught "undefined"
    // in the console for every quick press): an interrupted step is no error.
    window.Plotly.animate(g, [slider.steps[i].args[0][0]], {
      mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0},
    }).catch(() => {});
  };

  // The viewer's colour scheme (every figure is stored in each), the file's own where the browser says none.
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  const light = window.matchMedia('(prefers-color-scheme: light)');
  const scheme = () => (dark.matches ? 'dark' : light.matches ? 'light' : data.theme);
  const figureOf = (n) => (data.figures[scheme()] || {})[String(n)];
  // A phone: the chart laid out PHONE_LAYOUT_PX wide and shrunk to the screen's width, so all of it is seen
  // (narrower, its two columns and controls overlap). The transform leaves its layout box at the laid-out size:
  // the stage clips the width, a negative margin gives back the height.
  const PHONE_LAYOUT_PX = 720;

  const draw = (section, figure) => {
    const box = section.querySelector('.chart');
    const spec = resolve(figure);
    const scale = Math.min(1, box.parentElement.clientWidth / PHONE_LAYOUT_PX);
    // Fill the screen below the scene's text: the figure was built for a 720 px screen, a taller one gets more.
    const room = Math.floor(window.innerHeight - box.getBoundingClientRect().top - 8);
    const height = scale < 1 ? spec.layout.height : Math.max(spec.layout.height || 0, room);
    const layout = Object.assign({}, spec.layout, data.layout[scheme()], {height: height});
    if (scale < 1) {
      layout.width = PHONE_LAYOUT_PX;
      Object.assign(box.style, {flex: 'none', width: PHONE_LAYOUT_PX + 'px', transform: 'scale(' + scale + ')',
                                transformOrigin: '0 0', marginBottom: -Math.ceil(height * (1 - scale)) + 'px'});
    } else {
      Object.assign(box.style, {flex: '', width: '', transform: '', transformOrigin: '', marginBottom: ''});
    }
    const config = {displayModeBar: false, responsive: scale === 1};
    const mine = ++drawn;
    return window.Plotly.newPlot(box, spec.data, layout, config).then((g) => {
      if (mine !== drawn) { purge(g); return; }
      return window.Plotly.addFrames(g, spec.frames || []).then(() => {
        if (mine !== drawn) { purge(g); return; }
        gd = g;
        if (!reduced.matches) press(g, PLAY);
      });
    });
  };

  const show = (n) => {
    const index = numbers.indexOf(n);
    if (index < 0) return;
    const role = speaker ? 'notes' : 'projector';
    if (n === current) {
      if (window.lucky5Follow) window.lucky5Follow.shown(n, role, show);
      return;
    }
    drawn++;
    if (gd) { purge(gd); gd = null; }
    sections.forEach((s, i) => { s.hidden = i !== index; });
    current = n;
    if (speaker) window.lucky5Clock.scene(n);
    history.replaceState(null, '', '#scene=' + n + (speaker ? '&notes=1' : ''));
    document.title = sections[index].dataset.title;
    const figure = figureOf(n);
    if (figure && !speaker) draw(sections[index], figure);
    if (window.lucky5Follow) window.lucky5Follow.shown(n, role, show);
  };
  const move = (by) => {
    const i = numbers.indexOf(current) + by;
    if (i >= 0 && i < numbers.length) show(numbers[i]);
  };

  document.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'PageDown') { e.preventDefault(); move(1); return; }
    if (e.key === 'PageUp') { e.preventDefault(); move(-1); return; }
    if (!gd || !gd.layout) return;
    if (e.key === ' ' || e.code === 'Space') {
      e.preventDefault();
      press(gd, playing(gd) ? PAUSE : PLAY);
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      step(gd, e.key === 'ArrowRight' ? 1 : -1);
    }
  }, true);
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-move]');
    if (b) move(Number(b.dataset.move));
  });

  // The scheme changed while a scene shows (the OS switched to dark at dusk): draw its chart again in it.
  const redraw = () => {
    if (current === null || speaker) return;
    const n = current;
    current = null;
    show(n);
  };
  [dark, light].forEach((m) => m.addEventListener('change', redraw));

  if (speaker) window.lucky5Clock.run('.timer output');

  const asked = Number(hashParams().get('scene'));
  show(numbers.includes(asked) ? asked : numbers[0]);
})();
