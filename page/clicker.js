// A presentation clicker's PageDown and PageUp (page/notes.py installs this in the projector's window and the
// speaker's, once per tab): they press the scene bar's Next and Back. Streamlit's own button shortcut is not
// enough here: on a freshly loaded presenter page its key handler lets the first press through unanswered
// (Chromium, both themes), and a speaker's first click must move the talk. So this listener, ahead of every
// other one, presses the button itself and keeps the key from Streamlit's handler, which would press it twice.
(function () {
  if (window.__lucky5Clicker) return;
  window.__lucky5Clicker = true;
  const typing = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
                              || (t.getAttribute && t.getAttribute('role') === 'combobox'));
  window.addEventListener('keydown', (e) => {
    if (e.key !== 'PageDown' && e.key !== 'PageUp') return;
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || typing(e.target)) return;
    e.preventDefault();  // the page would scroll
    e.stopImmediatePropagation();
    const key = e.key === 'PageDown' ? 'scene_next' : 'scene_back';
    const button = document.querySelector(`.st-key-${key} button`);
    if (button && !button.disabled) button.click();
  }, true);
})();
