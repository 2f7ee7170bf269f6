(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("tc-settings").textContent);
  var card = S.card, order = null, orderToken = null, pollTimer = null;
  // What the last tap came to ("declined", "only 2 left"); it stays until the next tap.
  var notice = "";
  var $ = function (name) { return document.querySelector('[data-tc="' + name + '"]'); };
  var locale = S.locale || navigator.language || "en";

  function log(msg) { if (window.console) console.error("[tapcard] " + msg); }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: currency })
        .format(amount / Math.pow(10, S.minor_unit_exponent));
    } catch (e) { return $("price").textContent; }
  }

  function buyerToken() {
    var key = "tapcard-buyer", token;
    try { token = localStorage.getItem(key); } catch (e) { /* storage blocked: one token per load */ }
    if (!token) {
      token = "b_" + (crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "") : String(Math.random()).slice(2) + Date.now());
      try { localStorage.setItem(key, token); } catch (e) { /* keep it in memory */ }
    }
    return token;
  }

  function resize() {
    if (!S.parent_origin || window.parent === window) return;
    window.parent.postMessage({ type: "tapcard:resize", id: card.id, height: document.documentElement.scrollHeight }, S.parent_origin);
  }

  function say(text) { $("status").textContent = text || ""; resize(); }

  function step(name) {
    document.querySelectorAll("[data-step]").forEach(function (el) { el.hidden = el.getAttribute("data-step") !== name; });
    resize();
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s < 10 ? "0" : "") + s + "s";
  }

  function render() {
    $("price").textContent = money(card.price.amount, card.price.currency);
    $("stock").textContent = card.stock.available + " left";
    if (order) return;
    var state = card.sale.state, now = Date.now() / 1000;
    $("buy").disabled = state !== "live";
    $("buy").parentNode.hidden = state !== "live";
    if (notice && state === "live") say(notice);
    else if (state === "upcoming") say("Sale starts in " + duration(Date.parse(card.sale.starts_at) / 1000 - now));
    else if (state === "sold_out") say(card.stock.held > 0 ? "Sold out. Units may come back as holds expire." : "Sold out.");
    else if (state === "ended") say("This sale has ended.");
    else if (card.sale.ends_at) say("Ends in " + duration(Date.parse(card.sale.ends_at) / 1000 - now));
    else say("");
  }

  function request(method, path, body, headers) {
    var init = { method: method, headers: headers || {} };
    if (body) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  // High demand answers 503, or 429 without a buyer limit: wait with jitter and try again.
  function withBackoff(call, attempt) {
    attempt = attempt || 0;
    return call(attempt).then(function (res) {
      var busy = res.status === 503 || (res.status === 429 && !(res.data.error && res.data.error.code === "limit_reached"));
      if (!busy || attempt >= 6) return res;
      say("High demand, retrying…");
      var wait = Math.random() * Math.min(8000, 250 * Math.pow(2, attempt));
      return new Promise(function (ok) { setTimeout(ok, wait); }).then(function () { return withBackoff(call, attempt + 1); });
    }, function () {
      if (attempt >= 6) throw new Error("network");
      say("Connection trouble, retrying…");
      return new Promise(function (ok) { setTimeout(ok, 500 * (attempt + 1)); }).then(function () { return withBackoff(call, attempt + 1); });
    });
  }

  function refreshCard() {
    return request("GET", "/cards/" + card.id).then(function (res) {
      if (res.status === 200) { card = res.data; render(); }
    }).catch(function () { /* next poll */ });
  }

  function refreshFeed() {
    return request("GET", "/cards/" + card.id + "/feed").then(function (res) {
      if (res.status !== 200) return;
      var list = $("feed");
      list.textContent = "";
      res.data.items.slice(0, 5).forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item.text;
        list.appendChild(li);
      });
      resize();
    }).catch(function () { /* next poll */ });
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (document.hidden) return;
    pollTimer = setTimeout(function () { refreshCard().then(refreshFeed).then(schedulePoll); }, 4000 + Math.random() * 2000);
  }
  document.addEventListener("visibilitychange", schedulePoll);

  var idempotencyKey = null;
  function buy() {
    $("buy").disabled = true;
    notice = "";
    idempotencyKey = idempotencyKey || "tap_" + Date.now() + "_" + String(Math.random()).slice(2, 10);
    var body = { quantity: 1, buyer: buyerToken() };
    if (S.ref) body.ref = S.ref;
    say("Reserving…");
    withBackoff(function (attempt) {
      // A retry says so: the server then looks for the order its first attempt may have made.
      var headers = { "Idempotency-Key": idempotencyKey };
      if (attempt) headers["Tapcard-Retry"] = String(attempt);
      return request("POST", "/cards/" + card.id + "/checkout", body, headers);
    }).then(function (res) {
      if (res.status !== 201) {
        idempotencyKey = null;
        notice = res.data.error ? res.data.error.message : "Something went wrong. Please try again.";
        $("buy").disabled = false;
        return refreshCard().then(render);
      }
      order = res.data;
      orderToken = order.order_token;
      startPayment();
    }).catch(function () { $("buy").disabled = false; say("Could not reach the shop. Please try again."); });
  }

  function holdCountdown() {
    if (!order || order.status !== "held") return;
    var left = Date.parse(order.expires_at) / 1000 - Date.now() / 1000;
    $("hold-left").textContent = duration(left);
    if (left > 0) setTimeout(holdCountdown, 1000);
  }

  function startPayment() {
    say("");
    step("pay");
    holdCountdown();
    if (S.payment_sheet !== "test") mountStripe();
  }

  function watchOrder(until) {
    return request("GET", "/orders/" + order.order_id + "?token=" + encodeURIComponent(orderToken)).then(function (res) {
      if (res.status === 200 && res.data.status !== "held") return showOutcome(res.data);
      if (Date.now() > until) { say("Still waiting for the payment to settle…"); return; }
      return new Promise(function (ok) { setTimeout(ok, 700); }).then(function () { return watchOrder(until); });
    });
  }

  function showOutcome(latest) {
    order = latest;
    if (latest.status === "paid") {
      step("paid");
      say("");
      $("order-ref").textContent = latest.order_id;
      $("share-url").value = latest.share_url;
      if (navigator.share) $("web-share").hidden = false;
      setTimeout(refreshFeed, 1500);
      setTimeout(refreshFeed, 4000);
    } else {
      var reason = latest.status === "canceled" ? "The payment did not go through; your reservation was released." :
        latest.status === "refunded" ? "The payment came too late for the last unit and was refunded." :
        "Your reservation expired.";
      order = null;
      idempotencyKey = null;
      notice = reason;
      step("live");
      refreshCard().then(render);
    }
  }

  function payWithTestCard(outcome) {
    document.querySelectorAll('[data-tc^="pay-"]').forEach(function (b) { b.disabled = true; });
    say("Paying…");
    request("POST", "/dev/orders/" + order.order_id + "/pay", { token: orderToken, card: outcome }).then(function (res) {
      if (res.status !== 200) { say(res.data.error ? res.data.error.message : "Payment failed."); return; }
      return watchOrder(Date.now() + 30000);
    }).finally(function () {
      document.querySelectorAll('[data-tc^="pay-"]').forEach(function (b) { b.disabled = false; });
    });
  }

  var stripeElements = null, stripe = null;
  function mountStripe() {
    var script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.onload = function () {
      stripe = window.Stripe(S.publishable_key);
      stripeElements = stripe.elements({ clientSecret: order.client_secret });
      stripeElements.create("payment").mount($("payment-element"));
      resize();
    };
    script.onerror = function () { log("Stripe.js did not load"); say("Payments could not load. Please try again."); };
    document.head.appendChild(script);
  }

  function payWithStripe() {
    if (!stripe) return;
    say("Paying…");
    stripe.confirmPayment({ elements: stripeElements, redirect: "if_required" }).then(function (result) {
      if (result.error) { say(result.error.message); return; }
      return watchOrder(Date.now() + 60000);
    });
  }

  $("buy").addEventListener("click", buy);
  if ($("pay-success")) {
    $("pay-success").addEventListener("click", function () { payWithTestCard("success"); });
    $("pay-decline").addEventListener("click", function () { payWithTestCard("decline"); });
  }
  if ($("pay-stripe")) $("pay-stripe").addEventListener("click", payWithStripe);
  $("copy").addEventListener("click", function () {
    var input = $("share-url");
    input.select();
    (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject()).then(
      function () { say("Link copied."); }, function () { document.execCommand("copy"); say("Link copied."); });
  });
  $("web-share").addEventListener("click", function () {
    navigator.share({ title: card.title, url: $("share-url").value }).catch(function () { /* dismissed */ });
  });
  window.addEventListener("resize", resize);
  setInterval(function () { if (!order) render(); }, 1000);

  render();
  refreshFeed();
  schedulePoll();
})();
