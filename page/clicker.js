// A presentation clicker's PageDown and PageUp (page/notes.py installs this in the projector's window and the
// speaker's, once per tab): they press the scene bar's Next and Back. Streamlit's own button shortcut is not
// enough here: on a freshly loaded presenter page its key handler lets the first press through unanswered
// (Chromium, both themes), and a speaker's first click must move the talk. So this listener, ahead of every
// other one, presses the button itself and keeps the key from Streamlit's handler, which would press it twice.
//
// A clicker pressed twice quickly must move two scenes. Two clicks of one button that reach the server before its
// script has started are merged into one, so a press that comes while the page is still answering the last one
// waits, counted, until that answer is drawn (page/notes.py calls lucky5Clicker.ran() in every run of the page),
// and then presses the new bar's button; the buttons move relative to the scene the server has (page/scenes.py).
(function () {
  if (window.lucky5Clicker) return;
  const PATIENCE_MS = 20000; // an answer that has not come by then is given up, with the presses waiting for it
  const POLL_MS = 100;
  const state = {runs: 0, waitingFor: null, since: 0, queued: 0};
  const typing = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
                              || (t.getAttribute && t.getAttribute('role') === 'combobox'));
  const idle = () => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning';
  const press = (step) => {  // +1 Next, -1 Back; false when the bar has no such button to press
    const button = document.querySelector(`.st-key-${step > 0 ? 'scene_next' : 'scene_back'} button`);
    if (!button || button.disabled) return false;
    state.waitingFor = state.runs + 1;  // this press is answered by the next run of the page, once it is drawn
    state.since = Date.now();
    button.click();
    return true;
  };
  const answered = () => state.waitingFor === null || (state.runs >= state.waitingFor && idle());
  let timer = null;
  const later = () => { if (timer === null) timer = setTimeout(drain, POLL_MS); };
  const drain = () => {
    timer = null;
    if (!state.queued) return;
    if (!answered()) {
      if (Date.now() - state.since > PATIENCE_MS) { state.queued = 0; state.waitingFor = null; return; }
      later();
      return;
    }
    const step = Math.sign(state.queued);
    state.queued -= step;
    if (!press(step)) { state.queued = 0; state.waitingFor = null; return; }  // the first or the last scene
    later();
  };
  window.lucky5Clicker = {
    ran() { state.runs += 1; },
  };
  window.addEventListener('keydown', (e) => {
    if (e.key !== 'PageDown' && e.key !== 'PageUp') return;
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || typing(e.target)) return;
    e.preventDefault();  // the page would scroll
    e.stopImmediatePropagation();
    const step = e.key === 'PageDown' ? 1 : -1;
    if (state.queued || !answered()) {
      state.queued += step;
      later();
    } else {
      press(step);
    }
  }, true);
})();
