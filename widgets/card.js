(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("tc-settings").textContent);
  var card = null, words = S.words, order = null, orderToken = null, pollTimer = null;
  // What the last tap came to ("declined", "only 2 left"); it stays until the next tap.
  var notice = "";
  var $ = function (name) { return document.querySelector('[data-tc="' + name + '"]'); };
  var locale = S.locale || navigator.language || "en";
  var ship = window.tapcardShipping;  // cards that ship goods: the address goes first (card_shipping.js)
  var group = window.tapcardGroup;  // cards with a group price: start, join, wait for the group (card_group.js)

  function log(msg) { if (window.console) console.error("[tapcard] " + msg); }
  function t(key, values) {
    return String(words[key] || key).replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function number(n) { try { return new Intl.NumberFormat(locale).format(n); } catch (e) { return String(n); } }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: currency })
        .format(amount / Math.pow(10, S.minor_unit_exponent));
    } catch (e) { return $("price").textContent; }
  }

  function date(iso) {
    try { return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)); } catch (e) { return iso; }
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var u = words.units, d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600),
      m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (d ? d + u.d + " " : "") + (d || h ? h + u.h + " " : "") + m + u.m + " " + (s < 10 ? "0" : "") + s + u.s;
  }

  function secondsUntil(iso) { return Date.parse(iso) / 1000 - Date.now() / 1000; }

  function buyerToken() {
    var key = "tapcard-buyer", token;
    try { token = localStorage.getItem(key); } catch (e) { /* storage blocked: one token per load */ }
    if (!token) {
      token = "b_" + (crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "") : String(Math.random()).slice(2) + Date.now());
      try { localStorage.setItem(key, token); } catch (e) { /* keep it in memory */ }
    }
    return token;
  }

  function remember(key, value) {
    try {
      if (value === undefined) return localStorage.getItem(key);
      localStorage.setItem(key, value);
    } catch (e) { return null; }
  }

  function resize() {
    if (!S.parent_origin || window.parent === window) return;
    window.parent.postMessage({ type: "tapcard:resize", id: S.card_id, height: document.documentElement.scrollHeight }, S.parent_origin);
  }

  function say(text) { $("status").textContent = text || ""; resize(); }

  function step(name) {
    document.querySelectorAll("[data-step]").forEach(function (el) { el.hidden = el.getAttribute("data-step") !== name; });
    resize();
  }

  // Readers who opened the card together should not all ask for the new state in the same second.
  var edgeJitter = Math.random() * 2;

  function render() {
    var state = card.sale.state, show = function (name, on) { $(name).hidden = !on; };
    $("price").textContent = money(card.price.amount, card.price.currency);
    $("stock").textContent = t("left", { n: number(card.stock.available) });
    var proof = [];
    if (card.stock.sold) proof.push(t("bought", { n: number(card.stock.sold) }));
    if (card.shares) proof.push(t("shares", { n: number(card.shares) }));
    if (state === "upcoming" && card.reservations) proof.push(t("reservations", { n: number(card.reservations) }));
    $("proof").textContent = proof.join(" · ");
    show("proof", proof.length > 0);
    $("when").textContent = state === "upcoming" ? t("starts_at", { date: date(card.sale.starts_at) }) : "";
    $("countdown").textContent =
      state === "upcoming" ? t("starts_in", { t: duration(secondsUntil(card.sale.starts_at)) }) :
      state === "live" && card.sale.ends_at ? t("ends_in", { t: duration(secondsUntil(card.sale.ends_at)) }) : "";
    // The clock moves the card on (upcoming to live, live to ended) before the next poll does.
    var next = state === "upcoming" ? card.sale.starts_at : state === "live" ? card.sale.ends_at : null;
    if (next && secondsUntil(next) <= -edgeJitter) refreshCard();
    if (order) return;
    show("buy", state === "live");
    // Reservations exist only where the seller turned them on.
    show("reserve", state === "upcoming" && card.reservation.mode !== "none");
    $("reserve").disabled = reserving || !!(remember("tapcard-reservation-" + card.id) || S.reservation);
    show("remind-box", state === "upcoming" && card.reservation.mode !== "none" && !$("reserve").disabled);  // an email: a reminder
    if (notice && (state === "live" || state === "upcoming")) say(notice);
    else if (state === "sold_out") say(card.stock.held > 0 ? t("may_come_back") : t("sold_out"));
    else if (state === "ended") say(t("ended"));
    else if (state === "upcoming" && $("reserve").disabled) say(t("reserved"));
    else say("");
  }

  function request(method, path, body, headers, cache) {
    var init = { method: method, headers: headers || {}, cache: cache || "default" };
    if (body) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data, headers: r.headers }; });
    });
  }

  function errorText(res) {
    var error = res.data.error;
    return error ? words["error_" + error.code] || error.message : t("try_again");
  }

  function wait(ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); }

  // High demand answers 503, or 429 without a buyer limit: wait with jitter and try again.
  function withBackoff(call, attempt) {
    attempt = attempt || 0;
    return call(attempt).then(function (res) {
      var busy = res.status === 503 || (res.status === 429 && !(res.data.error && res.data.error.code === "limit_reached"));
      if (!busy || attempt >= 6) return res;
      say(t("high_demand"));
      return wait(Math.random() * Math.min(8000, 250 * Math.pow(2, attempt))).then(function () { return withBackoff(call, attempt + 1); });
    }, function () {
      if (attempt >= 6) throw new Error("network");
      say(t("connection_retry"));
      return wait(500 * (attempt + 1)).then(function () { return withBackoff(call, attempt + 1); });
    });
  }

  var refreshing = null;
  // revalidate: after the reader's own purchase, not the copy the browser keeps for a second.
  function refreshCard(revalidate) {
    refreshing = refreshing || request("GET", "/cards/" + card.id, null, null, revalidate ? "no-cache" : "default").then(function (res) {
      if (res.status === 200) { card = res.data; render(); }
    }).catch(function () { /* next poll */ }).then(function () { refreshing = null; });
    return refreshing;
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

  // Stock and feed every 4-6 s while the reader can see the card; jitter spreads a crowd's polls.
  function schedulePoll() {
    clearTimeout(pollTimer);
    if (document.hidden || !card) return;
    pollTimer = setTimeout(function () { refreshCard().then(refreshFeed).then(schedulePoll); }, 4000 + Math.random() * 2000);
  }
  document.addEventListener("visibilitychange", schedulePoll);

  var idempotencyKey = null;
  function buy() {
    $("buy").disabled = true;
    notice = "";
    idempotencyKey = idempotencyKey || "tap_" + Date.now() + "_" + String(Math.random()).slice(2, 10);
    var body = { quantity: 1, buyer: buyerToken() }, reservation = remember("tapcard-reservation-" + card.id) || S.reservation;
    if (S.ref) body.ref = S.ref;
    if (reservation) body.reservation = reservation;
    if ($("code").value.trim()) body.code = $("code").value.trim();  // the server prices it
    say(t("reserving"));
    withBackoff(function (attempt) {
      // A retry says so: the server then looks for the order its first attempt may have made.
      var headers = { "Idempotency-Key": idempotencyKey };
      if (attempt) headers["Tapcard-Retry"] = String(attempt);
      return request("POST", group ? group.path(card.id, body) : "/cards/" + card.id + "/checkout", body, headers);
    }).then(function (res) {
      if (res.status !== 201) {
        idempotencyKey = null;
        notice = errorText(res);
        $("buy").disabled = false;
        return refreshCard();
      }
      order = res.data;
      orderToken = order.order_token;
      startPayment();
    }).catch(function () { $("buy").disabled = false; say(t("unreachable")); });
  }

  var reserving = false;
  function reserve() {
    reserving = $("reserve").disabled = true;
    notice = "";
    request("POST", "/cards/" + card.id + "/reservations", { buyer: buyerToken(), email: $("remind-email").value.trim() || undefined }).then(function (res) {
      if (res.status === 201 || res.status === 200) {  // 200: this reader had reserved already
        remember("tapcard-reservation-" + card.id, res.data.token);
        if (res.status === 201) card.reservations = (card.reservations || 0) + 1;
      } else notice = errorText(res);  // kept on screen by render (429: try again in a minute)
    }).catch(function () { notice = t("unreachable"); }).then(function () { reserving = false; render(); });
  }

  function holdCountdown() {
    if (!order || order.status !== "held") return;
    var left = secondsUntil(order.expires_at);
    $("hold-left").textContent = duration(left);
    if (left > 0) setTimeout(holdCountdown, 1000);
  }

  function startPayment() {
    var off = order.discount;  // what the server took off (a code, or a friend's link)
    $("discount").hidden = !off;
    if (off) $("discount").textContent = t(off.kind === "code" ? "discount_code" : "discount_referral", { code: off.code, amount: money(off.amount, order.currency), total: money(order.amount, order.currency) });
    say("");
    payButtons(true);
    step("pay");
    holdCountdown();
    if (S.payment_sheet === "stripe") mountStripe();
  }

  function watchOrder(until) {
    return request("GET", "/orders/" + order.order_id + "?token=" + encodeURIComponent(orderToken)).then(function (res) {
      if (res.status === 200 && res.data.status !== "held") return showOutcome(res.data);
      if (Date.now() > until) { say(t("settling")); return; }
      return wait(700).then(function () { return watchOrder(until); });
    });
  }

  function shareLinks(url) {
    var text = encodeURIComponent(card.title), u = encodeURIComponent(url), links = {
      weibo: "https://service.weibo.com/share/share.php?url=" + u + "&title=" + text,
      x: "https://x.com/intent/tweet?url=" + u + "&text=" + text,
      facebook: "https://www.facebook.com/sharer/sharer.php?u=" + u,
      mastodon: "https://mastodonshare.com/?url=" + u + "&text=" + text,
      bluesky: "https://bsky.app/intent/compose?text=" + text + "%20" + u
    };
    document.querySelectorAll("[data-net]").forEach(function (a) { a.href = links[a.getAttribute("data-net")]; });
  }

  function showOutcome(latest) {
    if (latest.status !== "paid") return backToLive(t(latest.status === "canceled" || latest.status === "refunded" ? latest.status : "expired"));
    order = Object.assign(order, latest);  // the pay call's order has no order_url: the tap's answer had it
    step("paid");
    say("");
    $("order-ref").textContent = order.order_id;
    $("order-link").href = order.order_url;
    $("share-url").value = order.share_url;
    shareLinks(order.share_url);
    $("qr").src = card.url + "/qr.svg?ref=" + encodeURIComponent(order.referral_code || "");
    $("qr").onload = resize;
    if (navigator.share) $("web-share").hidden = false;
    refreshCard(true);  // the buyer's own unit shows as gone at once, not at the next poll
    setTimeout(refreshFeed, 1500);
    setTimeout(refreshFeed, 4000);
  }

  function backToLive(text) {
    order = null;
    idempotencyKey = null;
    notice = text;
    step("live");
    $("buy").disabled = false;
    refreshCard();
  }

  function payButtons(enabled) {
    document.querySelectorAll('[data-tc^="pay-"]').forEach(function (b) { b.disabled = !enabled; });
  }

  function payFailed(text, walletEvent) {
    if (walletEvent) walletEvent.paymentFailed({ reason: "fail" });
    payButtons(true);
    say(text);
  }

  function pay(body, walletEvent) {
    if (!ship) return payNow(body, walletEvent);
    payButtons(false);
    return ship.save(order, orderToken, say).then(function (problem) {
      return problem ? payFailed(problem, walletEvent) : payNow(body, walletEvent);
    }, function () { payFailed(t("unreachable"), walletEvent); });
  }

  // The pay call, within the hold: the unit is ours until it ends, whatever Stripe answers.
  function payNow(body, walletEvent) {
    payButtons(false);
    say(t("paying"));
    body.amount = order.amount;
    body.currency = order.currency;
    var send = function () {
      return request("POST", "/orders/" + order.order_id + "/pay?token=" + encodeURIComponent(orderToken), body).then(function (res) {
        var answer = res.data, code = answer.error && answer.error.code, hold = answer.order || answer.error || {};
        if (hold.expires_at) order.expires_at = hold.expires_at;  // paying gives a rush hold the card's full time
        if (res.status === 200) {
          if (answer.status === "succeeded") return showOutcome(answer.order);
          if (answer.status === "authorized") return group.authorised(Object.assign(order, answer.order), orderToken, showOutcome);
          if (answer.status === "failed") return payFailed(answer.reason || t("try_again"), walletEvent);
          if (answer.status === "requires_action") {
            say(t("authenticate"));
            return stripe.handleNextAction({ clientSecret: answer.client_secret }).then(function (next) {
              if (next.error) return payFailed(next.error.message);
              say(t("confirming"));
              return watchOrder(Date.now() + 60000);
            });
          }
          say(t("confirming"));
          return watchOrder(Date.now() + 60000);
        }
        // Stripe's budget is spent for now: the unit stays held; ask again when the server says, spread out.
        if (code === "payments_busy" && secondsUntil(order.expires_at) > 0) {
          var after = Number(res.headers.get("Retry-After")) || 2;
          say(t("opening_payment"));
          return wait((after + Math.random() * after / 2) * 1000).then(send);
        }
        if (walletEvent) walletEvent.paymentFailed({ reason: "fail" });
        if (code === "hold_expired" || code === "payments_busy") return backToLive(t("error_hold_expired"));
        // An order paid meanwhile shows as paid; a held one shows the error and may be paid again.
        return watchOrder(0).then(function () { if (order && order.status === "held") payFailed(errorText(res)); });
      });
    };
    return send().catch(function () { payFailed(t("unreachable"), walletEvent); });
  }

  // A payment that outlives its hold: it is sent once the hold has run out, and refused.
  function payTooLate() {
    payButtons(false);
    say(t("test_slow_wait"));
    wait(Math.max(0, secondsUntil(order.expires_at)) * 1000 + 3000).then(function () { pay({ payment_method: "pm_card_visa" }); });
  }

  var stripe = null, elements = null;
  // Stripe.js is fetched as soon as the card is on screen, so the tap does not wait for it.
  function loadStripe() {
    if (S.payment_sheet !== "stripe" || document.querySelector("script[data-stripe]")) return;
    var script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.setAttribute("data-stripe", "1");
    script.onload = function () { stripe = window.Stripe(S.publishable_key); if (order) mountStripe(); };
    script.onerror = function () { log("Stripe.js did not load"); say(t("payments_failed")); };
    document.head.appendChild(script);
  }

  // Deferred mode: the form is set up from the order's amount; no PaymentIntent exists until the pay call.
  function mountStripe() {
    if (!stripe || elements) return;
    elements = stripe.elements({
      mode: "payment", amount: order.amount, currency: order.currency.toLowerCase(),
      locale: /^zh/i.test(locale) ? "zh" : "auto", appearance: { variables: { colorPrimary: S.accent } }
    });
    var express = elements.create("expressCheckout");
    express.on("ready", function (e) { $("express-checkout").hidden = !e.availablePaymentMethods; resize(); });
    express.on("confirm", payWithStripe);
    express.mount($("express-checkout"));
    elements.create("payment").mount($("payment-element"));
    if (ship) ship.mountStripe(elements);
    resize();
  }

  // Whichever wallet or card the reader chose becomes a ConfirmationToken; the server pays with it.
  function payWithStripe(walletEvent) {
    var fail = function (error) { payFailed(error.type === "api_connection_error" ? t("unreachable") : error.message, walletEvent); };
    payButtons(false);
    say(t("paying"));
    elements.submit().then(function (submitted) {
      if (submitted.error) return fail(submitted.error);
      return stripe.createConfirmationToken({
        elements: elements, params: { return_url: card.url + (S.ref ? "?ref=" + S.ref : "") }
      }).then(function (result) {
        if (result.error) return fail(result.error);
        return pay({ confirmation_token: result.confirmationToken.id }, walletEvent);
      });
    }).catch(function () { fail({ type: "api_connection_error" }); });
  }

  $("buy").addEventListener("click", buy);
  $("reserve").addEventListener("click", reserve);
  if ($("pay-success")) {
    $("pay-success").addEventListener("click", function () { pay({ payment_method: "pm_card_visa" }); });
    $("pay-decline").addEventListener("click", function () { pay({ payment_method: "pm_card_chargeCustomerFail" }); });
    $("pay-slow").addEventListener("click", payTooLate);
  }
  if ($("pay-stripe")) $("pay-stripe").addEventListener("click", function () { if (elements) payWithStripe(null); });
  $("copy").addEventListener("click", function () {
    var input = $("share-url");
    input.select();
    (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject()).then(
      function () { say(t("copied")); }, function () { document.execCommand("copy"); say(t("copied")); });
  });
  $("web-share").addEventListener("click", function () {
    navigator.share({ title: card.title, url: $("share-url").value }).catch(function () { /* dismissed */ });
  });
  window.addEventListener("resize", resize);
  window.tapcardLive.then(function (live) {  // card_live.js: the page itself carries no live data
    card = live;
    setInterval(render, 1000);
    render();
    refreshFeed();
    schedulePoll();
  }, function () { say(t("unreachable")); });
  loadStripe();
})();
