/* Group buying (拼团), on cards with a group price (loaded before card.js, which calls it): "Start a
   group" beside "Buy alone"; a card opened from a group link (?group=) invites the reader, "Join Ada's
   group: 2 of 3, closes in 23:12", counted down each second and polled; once the pay call authorised
   the payment, the reader waits for the group ("Waiting for 1 more") until it is complete (the
   payment is taken: card.js shows it paid) or closes short (nothing was taken). Loaded after
   card_live.js: whether the card is group-only is live data. */
window.tapcardGroup = (function () {
  "use strict";
  var S = JSON.parse(document.getElementById("tc-settings").textContent);
  var card = null, words = S.words, joining = S.group_id || null, group = null, grouped = false, starting = false;
  var $ = function (name) { return document.querySelector('[data-tc="' + name + '"]'); };
  var buy = $("buy"), start = $("group-start");

  function t(key, values) {
    return String(words[key] || key).replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function secondsLeft(iso) { return Math.max(0, Math.floor(Date.parse(iso) / 1000 - Date.now() / 1000)); }

  // "23:12", or "1:05:09" past an hour.
  function clock(seconds) {
    var two = function (n) { return (n < 10 ? "0" : "") + n; }, h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60);
    return (h ? h + ":" + two(m) : m) + ":" + two(seconds % 60);
  }

  function get(path) {
    return fetch(path, { cache: "no-store" }).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; });
    });
  }

  function resize() { window.dispatchEvent(new Event("resize")); }  // card.js tells the post the new height

  function isOpen(g) { return g.state === "open" && g.members < g.size && secondsLeft(g.closes_at) > 0; }

  // Each second: the invitation's countdown, and the start button beside card.js's buy button.
  function render() {
    if (!card) return;  // card_live.js has not answered yet: card.js keeps the buttons hidden
    var label = joining && group && isOpen(group) ? start.getAttribute("data-join") : start.getAttribute("data-start");
    if (card.group.only) buy.textContent = label; else start.textContent = label;
    start.hidden = card.group.only || buy.hidden;
    start.disabled = buy.disabled;
    if (!group || !joining) return;
    var invite = $("group-invite");
    invite.hidden = false;
    invite.textContent = isOpen(group) ? t(group.starter_name ? "invite" : "invite_anonymous", {
      name: group.starter_name, members: group.members, size: group.size, t: clock(secondsLeft(group.closes_at))
    }) : t(group.state === "open" && group.members >= group.size ? "full" : "closed");
    if (!isOpen(group)) joining = null;  // the buttons start a new group instead
  }

  function pollInvite() {
    if (!joining) return;
    var next = function () { setTimeout(pollInvite, 4000 + Math.random() * 2000); };
    if (document.hidden) return next();
    get("/cards/" + card.id + "/groups/" + encodeURIComponent(joining)).then(function (res) {
      if (res.status === 200) group = res.data;
      else { group = { state: "closed" }; render(); }
    }).catch(function () { /* next poll */ }).then(next);
  }

  // card.js's buy button: a tap from "Start a group" goes to a group, any other buys alone.
  buy.addEventListener("click", function () { grouped = starting || Boolean(card && card.group.only); starting = false; });
  start.addEventListener("click", function () { starting = true; buy.click(); });

  // Where card.js sends the tap (and, joining, the group it joins); a group price takes no code.
  function path(cardId, body) {
    if (!grouped) return "/cards/" + cardId + "/checkout";
    delete body.code;
    if (!joining) return "/cards/" + cardId + "/groups";
    body.group_id = joining;
    return "/cards/" + cardId + "/checkout";
  }

  // The pay call authorised the payment: wait for the group, then hand the paid order to card.js.
  function authorised(order, token, done) {
    document.querySelectorAll("[data-step]").forEach(function (el) { el.hidden = el.getAttribute("data-step") !== "group"; });
    $("group-share").value = order.share_url || "";
    $("status").textContent = t("authorised");
    var wait = $("group-wait"), watch = function () {
      get("/orders/" + order.order_id + "?token=" + encodeURIComponent(token)).then(function (res) {
        if (res.status === 200 && res.data.status === "paid") {
          done(res.data);
          $("status").textContent = t("complete");
          return resize();
        }
        if (res.status === 200 && res.data.status !== "held") { wait.textContent = t("failed"); return resize(); }
        return get("/cards/" + card.id + "/groups/" + encodeURIComponent(order.group_id)).then(function (g) {
          if (g.status === 200) wait.textContent = g.data.state === "failed" ? t("failed") : g.data.authorised >= g.data.size ? t("complete") : t("waiting", { n: g.data.size - g.data.authorised });
          resize();
          setTimeout(watch, 1500 + Math.random() * 1000);
        });
      }).catch(function () { setTimeout(watch, 3000); });
    };
    watch();
  }

  window.tapcardLive.then(function (live) {
    if (!live.group) return;  // group buying turned off since the edge kept this page: buy alone only
    card = live;
    if (!card.group.only) buy.textContent = start.getAttribute("data-alone");
    setInterval(render, 1000);
    setTimeout(render, 0);  // once card.js has shown the buy button for this sale state
    pollInvite();
  }, function () { /* card.js says the card is unreachable */ });
  return { path: path, authorised: authorised };
})();
