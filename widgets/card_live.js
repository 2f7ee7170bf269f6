/* The card's live data (price, stock, sale state): fetched, never in this page, which the edge
   keeps for a minute. Once on screen the card says so: a kept copy served is not a view. */
window.tapcardLive = (function () {
  "use strict";
  var S = JSON.parse(document.getElementById("tc-settings").textContent), path = "/cards/" + encodeURIComponent(S.card_id);

  if (!S.preview) {  // the seller's own preview is no view
    fetch(path + "/views", { method: "POST", headers: { "Content-Type": "application/json" }, keepalive: true,
      body: JSON.stringify(S.ref ? { ref: S.ref } : {}) }).catch(function () { /* a view is not worth a retry */ });
  }

  // A crowd backs off with jitter; 404: withdrawn since the page was kept, the blog shows its link.
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
