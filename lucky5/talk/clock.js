/* The speaker's clocks: time since the talk started and since the scene on screen began, as m:ss.

   lucky5Clock.scene(n) when a scene is shown (a new scene restarts its clock; the talk's clock starts with the
   first scene), lucky5Clock.run(selector) keeps every element that matches showing both, and any element with
   data-lucky5-restart restarts them when clicked. The times live in sessionStorage: a reload of the speaker's
   window keeps them. The same file serves the page and the offline talk. */
(function () {
  'use strict';
  if (window.lucky5Clock) return;
  const TALK = 'lucky5-talk-started';
  const SCENE = 'lucky5-scene-started';
  const read = (key) => {
    try { return JSON.parse(sessionStorage.getItem(key) || 'null'); } catch (e) { return null; }
  };
  const write = (key, value) => {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* a private window: no memory */ }
  };
  const mss = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  };
  let timer = null;
  window.lucky5Clock = {
    scene(n) {
      const now = Date.now();
      if (!read(TALK)) write(TALK, {t: now});
      const s = read(SCENE);
      if (!s || s.scene !== n) write(SCENE, {scene: n, t: now});
    },
    restart() {
      const now = Date.now();
      const s = read(SCENE);
      write(TALK, {t: now});
      write(SCENE, {scene: s ? s.scene : 0, t: now});
    },
    text() {
      const now = Date.now();
      const t = read(TALK);
      const s = read(SCENE);
      return 'talk ' + mss(now - (t ? t.t : now)) + ' · this scene ' + mss(now - (s ? s.t : now));
    },
    run(selector) {
      const tick = () => document.querySelectorAll(selector).forEach((e) => { e.textContent = this.text(); });
      tick();
      if (timer === null) timer = setInterval(tick, 500);
    },
  };
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('[data-lucky5-restart]')) window.lucky5Clock.restart();
  });
})();
