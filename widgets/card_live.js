/* The card's live data, loaded before card.js. The page is the same for every reader and kept at
   the edge for a minute; price, stock and the sale's state come from GET /cards/{id} (kept for a
   second) and never from the page. Once on screen the card tells POST /cards/{id}/views: a copy of
   the page served from the cache is not a view, a reader looking at it is. */
window.tapcardLive = (function () {
  "use strict";
  var S = JSON.parse(document.getElementById("tc-settings").textContent), path = "/cards/" + encodeURIComponent(S.card_id);

  if (!S.preview) {  // the seller's own preview is no view
    fetch(path + "/views", { method: "POST", headers: { "Content-Type": "application/json" }, keepalive: true,
      body: JSON.stringify(S.ref ? { ref: S.ref } : {}) }).catch(function () { /* a view is not worth a retry */ });
  }

  // A crowd opening the card at once backs off with jitter on 429/503 or a lost connection;
  // 404: the card was withdrawn since the page was kept, the blog shows its own link instead.
  function load(attempt) {
    return fetch(path).then(function (r) {
      if (r.status === 200) return r.json();
      if (r.status === 404) {
        if (parent !== window) parent.postMessage({ type: "tapcard:unavailable", height: 0 }, "*");
        throw new Error("not available");
      }
      throw new Error("status " + r.status);
    }).catch(function (error) {
      if (attempt >= 6 || error.message === "not available") throw error;
      return new Promise(function (ok) { setTimeout(ok, Math.random() * Math.min(8000, 250 * Math.pow(2, attempt))); })
        .then(function () { return load(attempt + 1); });
    });
  }
  return load(0);
})();
