// The lesson's player (page/lesson.py): one clock for every chart, the network drawing, the counter, the
// caption and a voice for screen readers. It runs in the page itself (st.html with JavaScript), so it reaches
// the Plotly charts Streamlit drew (Plotly is the page's own global) and sends nothing to the server.
//
// Every chart (the network drawing too) holds frames named by epoch; showing frame i asks each chart for that
// frame (Plotly.animate, immediately, without a redraw). Playing is by the clock, not by the frame: a slow
// browser skips frames and still takes the time the speed says.
// Nothing plays until the viewer presses Play (prefers-reduced-motion is therefore respected here too).
(() => {
  const existing = window.__lucky5Lesson;
  if (existing) { existing.refresh(); return; }
  const ROOT = '.st-key-lesson';
  const SPEAK_EVERY_MS = 2000;  // the live region speaks at most this often while playing
  const L = window.__lucky5Lesson = {
    frame: 0, playing: false, ms: 40, id: null, data: null, dataText: null,
    start: 0, startFrame: 0, raf: 0, spokenAt: 0, speakTimer: 0, chartsSeen: new WeakSet(),
  };
  const root = () => document.querySelector(ROOT);
  const find = (selector) => { const r = root(); return r ? r.querySelector(selector) : null; };
  const reduced = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const plain = (n) => Number(n).toLocaleString('en-US');

  function readData() {
    const el = find('script.lesson-data');
    if (!el) return null;
    if (el.textContent === L.dataText) return L.data;
    let data;
    try { data = JSON.parse(el.textContent); } catch (e) { return null; }
    L.dataText = el.textContent;
    L.data = data;
    if (data.id !== L.id) {  // another run, input or theme: start again at epoch 0, paused
      stop();
      L.id = data.id;
      L.frame = 0;
      L.chartsSeen = new WeakSet();
      // The voice must not go on describing the run that was replaced: once it has spoken, it says the new
      // run's first frame (clearTimeout: a sentence still waiting was about the old run).
      clearTimeout(L.speakTimer);
      const live = find('.lesson-live');
      if (live && live.textContent) live.textContent = sentence(data, 0);
    }
    return data;
  }

  function charts() {
    const r = root();
    if (!r) return [];
    return [...r.querySelectorAll('.js-plotly-plot')].filter(
      (gd) => gd._fullLayout && gd._transitionData && (gd._transitionData._frames || []).length);
  }

  // A chart Plotly is still drawing (Streamlit redraws one when the run or the theme changes: a dark page's
  // first run draws the light charts, its second the dark ones) or has purged must not be asked for a frame:
  // Plotly runs the frame's transition after the draw's pending promises, outside any catch of ours, and then
  // reads the trace list the draw replaced or removed ("Cannot read properties of undefined (reading
  // 'length')"). Such a chart is brought to the frame when its draw ends (plotly_afterplot, below).
  function ready(gd, name) {
    const t = gd._transitionData;
    return gd.isConnected && Array.isArray(gd.data) && Array.isArray(gd._fullData) && gd._fullLayout
      && t && t._frameHash && Object.prototype.hasOwnProperty.call(t._frameHash, name)
      && !(gd._promises && gd._promises.length);
  }

  function toFrame(gd, name) {
    if (!window.Plotly || !ready(gd, name)) return;
    window.Plotly.animate(gd, [name], {
      mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0},
    }).catch(() => {});
  }

  // What the time counts up to, as the page wrote it on the counter (a diverged run says where it stopped).
  function total(data) {
    const counter = find('.lesson-counter');
    return (counter && counter.dataset.total) || plain(data.epochs[data.epochs.length - 1]);
  }

  function sentence(data, i) {
    return `Epoch ${plain(data.epochs[i])} of ${total(data)}. ${data.captions[i]}`;
  }

  function speak(now) {
    const data = L.data;
    if (!data) return;
    const say = () => {
      L.speakTimer = 0;
      L.spokenAt = performance.now();
      const live = find('.lesson-live');
      if (live) live.textContent = sentence(data, L.frame);
    };
    clearTimeout(L.speakTimer);
    if (now) { L.speakTimer = setTimeout(say, 300); return; }  // a drag of the slider speaks where it stops
    const wait = L.spokenAt + SPEAK_EVERY_MS - performance.now();
    L.speakTimer = setTimeout(say, Math.max(0, wait));
  }

  function show(i, quiet) {
    const data = readData();
    if (!data) return;
    const last = data.epochs.length - 1;
    i = Math.max(0, Math.min(last, i));
    L.frame = i;
    const name = String(data.epochs[i]);
    for (const gd of charts()) toFrame(gd, name);
    const of = total(data);
    const slider = find('.lesson-slider');
    if (slider) {
      slider.value = String(i);
      slider.setAttribute('aria-valuetext', `epoch ${plain(data.epochs[i])} of ${of}`);
    }
    const counter = find('.lesson-counter');
    if (counter) counter.textContent = `Epoch ${plain(data.epochs[i])} of ${of}`;
    const caption = find('.lesson-caption');
    if (caption) caption.textContent = data.captions[i];
    if (!quiet) speak(!L.playing);
  }

  function setPlaying(on) {
    L.playing = on;
    const button = find('[data-lesson="play"]');
    if (button) {
      button.textContent = on ? '❚❚ Pause' : '▶ Play';
      button.setAttribute('aria-pressed', String(on));
    }
  }

  function tick(now) {
    if (!L.playing) return;
    const data = L.data;
    const last = data ? data.epochs.length - 1 : 0;
    const target = Math.min(last, L.startFrame + Math.floor((now - L.start) / L.ms));
    if (target !== L.frame) show(target);
    if (L.frame >= last) { stop(); speak(true); return; }
    L.raf = requestAnimationFrame(tick);
  }

  function play() {
    const data = readData();
    if (!data) return;
    if (L.frame >= data.epochs.length - 1) show(0, true);
    L.startFrame = L.frame;
    L.start = performance.now();
    setPlaying(true);
    speak(false);
    L.raf = requestAnimationFrame(tick);
  }

  function stop() {
    cancelAnimationFrame(L.raf);
    setPlaying(false);
  }

  const actions = {
    play: () => (L.playing ? (stop(), speak(true)) : play()),
    back: () => { stop(); show(L.frame - 1); },
    forward: () => { stop(); show(L.frame + 1); },
    restart: () => { stop(); show(0, true); play(); },
  };

  function markTab(strip) {  // the chart a swipe brought into view is the chosen tab
    const width = strip.clientWidth || 1;
    const shown = [...strip.children][Math.round(strip.scrollLeft / width)];
    const key = shown && [...shown.classList].find((c) => c.startsWith('st-key-chart_'));
    if (!key) return;
    for (const tab of root().querySelectorAll('.lesson-tabs [data-chart]')) {
      tab.setAttribute('aria-selected', String('st-key-chart_' + tab.dataset.chart === key));
    }
  }

  function selectChart(name) {
    const r = root();
    if (!r) return;
    for (const tab of r.querySelectorAll('.lesson-tabs [data-chart]')) {
      tab.setAttribute('aria-selected', String(tab.dataset.chart === name));
    }
    const chart = r.querySelector('.st-key-chart_' + name);
    const strip = chart && chart.parentElement;
    if (strip) strip.scrollTo({left: chart.offsetLeft - strip.offsetLeft, behavior: reduced() ? 'auto' : 'smooth'});
  }

  document.addEventListener('click', (event) => {
    const r = root();
    const target = event.target.closest && event.target.closest('[data-lesson], .lesson-tabs [data-chart]');
    if (!r || !target || !r.contains(target)) return;
    if (target.dataset.chart) { selectChart(target.dataset.chart); return; }
    const act = actions[target.dataset.lesson];
    if (act) act();
  });
  // Keys for the whole page: Space plays or pauses, ← and → step one frame. Not where a key already means
  // something: typing in a field, a list, a slider, a button or a folded panel's title (Space presses or opens
  // it), a link, or the phone's chart strip.
  const OWN_KEYS = 'input, textarea, select, button, summary, a[href], [role="button"], [role="link"], '
    + '[role="checkbox"], [role="switch"], [contenteditable=""], [contenteditable="true"], '
    + '[role="combobox"], [role="listbox"], [role="slider"], [role="spinbutton"], [role="radiogroup"], '
    + '[role="tablist"], [role="menu"], [role="dialog"], .st-key-lesson_charts';
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || !root()) return;
    const act = {' ': actions.play, ArrowLeft: actions.back, ArrowRight: actions.forward}[event.key];
    const target = event.target;
    if (!act || (target && target.closest && target.closest(OWN_KEYS))) return;
    event.preventDefault();  // Space would scroll the page
    act();
  });
  document.addEventListener('input', (event) => {
    if (!event.target.matches || !event.target.matches(ROOT + ' .lesson-slider')) return;
    stop();
    show(Number(event.target.value));
  });
  document.addEventListener('change', (event) => {
    if (!event.target.matches || !event.target.matches(ROOT + ' [data-lesson="speed"]')) return;
    L.ms = Number(event.target.value) || 40;
    if (L.playing) { L.startFrame = L.frame; L.start = performance.now(); }
  });

  // Streamlit draws a chart first at its figure's own size, then again at its box's. An animation started in
  // between races that second drawing, and the x axis can stay where the first size put it (below the chart,
  // out of sight). So a chart is moved to the frame on screen once it fits its box, or after half a second if it
  // never does (then the old behaviour: better a chart at the right frame than one that never moves).
  function fitted(gd) {
    const box = gd.closest('[data-testid="stElementContainer"]');
    const layout = gd._fullLayout;
    return !box || !layout
      || (Math.abs(box.clientHeight - layout.height) <= 1 && Math.abs(box.clientWidth - layout.width) <= 1);
  }

  const FIT_FRAMES = 30;  // how long a chart may wait for its drawing at its real size: about half a second
  function whenFitted(gd, frames) {
    if (!L.data || !document.contains(gd)) return;
    if (fitted(gd) || frames <= 0) { toFrame(gd, String(L.data.epochs[L.frame])); return; }
    requestAnimationFrame(() => whenFitted(gd, frames - 1));
  }

  // Streamlit draws the charts after this script runs, and redraws one (back at its first frame) when its size
  // changes: every chart not seen yet, or redrawn, is brought to the frame on screen.
  function sync() {
    const data = readData();
    if (!data) return;
    const strip = find('.st-key-lesson_charts');  // on a phone a strip that scrolls sideways, one chart in view
    if (strip && !strip.hasAttribute('tabindex')) {
      strip.tabIndex = 0;  // reachable by keyboard, so the arrow keys scroll it too
      strip.setAttribute('role', 'region');
      strip.setAttribute('aria-label', 'Charts: the loss, the prediction and the valley');
      strip.addEventListener('scroll', () => {
        clearTimeout(strip._lucky5Scroll);
        strip._lucky5Scroll = setTimeout(() => markTab(strip), 120);
      });
    }
    for (const gd of charts()) {
      if (L.chartsSeen.has(gd)) continue;
      L.chartsSeen.add(gd);
      gd.on('plotly_afterplot', () => {
        if (!gd._lucky5Pending) {
          gd._lucky5Pending = true;
          requestAnimationFrame(() => { gd._lucky5Pending = false; whenFitted(gd, FIT_FRAMES); });
        }
      });
      whenFitted(gd, FIT_FRAMES);
    }
  }
  // Streamlit's icons (an expander's chevron) are words drawn by the Material Symbols font: until it has
  // loaded, the browser would print the words ("keyboard_arrow_right"). lesson.css hides them until then.
  if (document.fonts && document.fonts.load) {
    document.fonts.load('1em "Material Symbols Rounded"').then((faces) => {
      if (faces.length) document.documentElement.dataset.lucky5Icons = 'ready';
    }).catch(() => {});
  }
  L.refresh = () => { readData(); show(L.frame, true); sync(); };
  L.state = () => ({frame: L.frame, playing: L.playing, epoch: L.data ? L.data.epochs[L.frame] : null});
  setInterval(sync, 400);
  L.refresh();
})();
