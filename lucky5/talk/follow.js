/* Two windows of one talk in one browser (the projector's and the speaker's) keep to one scene.

   A window calls lucky5Follow.shown(scene, role, go) each time it shows a scene, with go(n), its own way of
   moving to scene n. A scene the viewer moved to (a key, a click) is announced on a BroadcastChannel; every
   other window of the talk then moves there with its go. A window that moves because another asked does not
   announce it again (sessionStorage remembers where it is going, across a reload too), so two windows never
   bounce a scene back and forth. A speaker's window (role "notes") that opens asks where the projector is.
   Scene 0 is "before the first scene". The same file serves the page and the offline talk. */
(function () {
  'use strict';
  if (window.lucky5Follow) return;
  const FOLLOWING = 'lucky5-following';
  const PATIENCE_MS = 15000; // a move that has not arrived by then is given up
  const channel = 'BroadcastChannel' in window ? new BroadcastChannel('lucky5-talk') : null;
  const state = {role: null, last: undefined, go: null};

  const pending = () => {
    try {
      const p = JSON.parse(sessionStorage.getItem(FOLLOWING) || 'null');
      return p && p.until > Date.now() ? p.scene : undefined;
    } catch (e) {
      return undefined;
    }
  };
  const setPending = (scene) => {
    try {
      if (scene === undefined) sessionStorage.removeItem(FOLLOWING);
      else sessionStorage.setItem(FOLLOWING, JSON.stringify({scene, until: Date.now() + PATIENCE_MS}));
    } catch (e) { /* storage refused (a private window): following still works, only without the memory */ }
  };
  const post = (message) => { if (channel) channel.postMessage(message); };

  if (channel) {
    channel.onmessage = (event) => {
      const m = event.data || {};
      if (m.type === 'scene' && Number.isInteger(m.scene) && m.scene >= 0 && state.go) {
        if (m.scene === state.last && pending() === undefined) return;
        setPending(m.scene);
        state.go(m.scene);
      } else if (m.type === 'where' && state.role === 'projector' && state.last !== undefined) {
        post({type: 'scene', scene: state.last});
      }
    };
  }

  window.lucky5Follow = {
    shown(scene, role, go) {
      state.role = role;
      state.go = go;
      const previous = state.last;
      state.last = scene;
      const target = pending();
      if (target !== undefined) {
        if (target === scene) setPending(undefined);
        else go(target);
        return;
      }
      if (previous === scene) return;
      if (previous === undefined) {
        if (role === 'notes') post({type: 'where'});
        return;
      }
      post({type: 'scene', scene});
    },
  };
})();
