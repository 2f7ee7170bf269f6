/* tapcard dashboard: the seller's page. Talks only to this origin's /api with the key kept in
   sessionStorage (gone when the tab closes). No library: DOM, fetch and a little SVG (dashboard_charts.js).
   Its words are the page's (#tc-words: every locale's "dashboard" words from widgets/words/). */
(function () {
  "use strict";
  var KEY = "tapcard.apiKey";
  var REFRESH_MS = 5000;
  // Every locale's words, inlined by the page (widgets/words/<locale>.json, "dashboard").
  var WORDS = JSON.parse(document.getElementById("tc-words").textContent);
  // Minor units as Stripe counts them (ISK in hundredths, unlike Intl): the server's table.
  var EXPONENTS = JSON.parse(document.getElementById("tc-currencies").textContent);
  var LOCALES = Object.keys(WORDS);
  var browser = (navigator.language || "").toLowerCase();
  var lang = LOCALES.filter(function (locale) { return browser.indexOf(locale.split("-")[0].toLowerCase()) === 0; })[0] || "en";
  var current = null;      // the card being edited, as the API returned it
  var timer = null;
  var ordersCursor = null;
  var pendingOrder = null; // the order a dialog acts on
  var PANELS = [tapcardCompareAt, tapcardGroup, tapcardCodes, tapcardReviews, tapcardShops];  // dashboard_*.js: shown with each card

  function $(selector) { return document.querySelector(selector); }
  function t(key) { return WORDS[lang][key] || WORDS.en[key] || key; }
  function nextLocale() { return LOCALES[(LOCALES.indexOf(lang) + 1) % LOCALES.length]; }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }
  function flash(message, isError) {
    var box = $("#flash");
    box.textContent = message;
    box.className = isError ? "error" : "";
  }
  function translate() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (node) { node.textContent = t(node.dataset.i18n); });
    $("#lang").textContent = WORDS[nextLocale()].language_name;
    if (current) showCard(current);
  }

  // --- the API ------------------------------------------------------------------------------

  function apiKey() { return sessionStorage.getItem(KEY); }
  function api(method, path, body, raw) {
    var headers = {"Authorization": "Bearer " + apiKey()};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (response) {
        if (response.status === 401 && path !== "/api/sellers") { signOut(); throw new Error(t("bad_key")); }
        if (raw && response.ok) return response.text();
        return response.json().then(function (data) {
          if (!response.ok) {
            var error = (data && data.error) || {};
            throw Object.assign(new Error((error.field ? error.field + ": " : "") + (error.message || response.status)), {field: error.field, detail: error.message});
          }
          return data;
        });
      });
  }
  function fail(error) { flash(error.message, true); PANELS.forEach(function (p) { if (error.field && p.fieldError) p.fieldError(error.field, error.detail); }); }
  function context() { return {api: api, t: t, money: money, el: el, flash: flash, fail: fail, exponent: exponent, lang: lang}; }

  // --- signing in ---------------------------------------------------------------------------

  function signIn(key) {
    sessionStorage.setItem(KEY, key);
    return api("GET", "/api/cards?limit=100").then(function (page) {
      $("#signin").hidden = true;
      $("#app").hidden = false;
      $("#signout").hidden = false;
      flash(t("signed_in"));
      listCards(page.items);
      if (page.items.length) selectCard(page.items[0]); else newCard();
    });
  }
  function signOut() {
    sessionStorage.removeItem(KEY);
    clearInterval(timer);
    current = null;
    $("#signin").hidden = false;
    $("#app").hidden = true;
    $("#signout").hidden = true;
  }

  // --- cards --------------------------------------------------------------------------------

  function listCards(cards) {
    var list = $("#cards");
    list.textContent = "";
    cards.forEach(function (card) {
      var button = el("button", card.title + (card.status === "published" ? "" : " · " + t(card.status)), {type: "button"});
      button.dataset.cardId = card.id;
      if (current && current.id === card.id) button.setAttribute("aria-current", "true");
      button.addEventListener("click", function () { selectCard(card); });
      list.appendChild(el("li")).appendChild(button);
    });
  }
  function refreshCardList() {
    return api("GET", "/api/cards?limit=100").then(function (page) { listCards(page.items); });
  }
  function exponent(currency) {
    return EXPONENTS[currency] === undefined ? 2 : EXPONENTS[currency];
  }
  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(lang, {style: "currency", currency: currency})
        .format(amount / Math.pow(10, exponent(currency)));
    } catch (e) { return amount + " " + currency; }
  }
  function localInput(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }
  function newCard() {
    current = null;
    clearInterval(timer);
    $("#card-form").reset();
    $("#editor-title").textContent = t("new_card_title");
    $("#card-status").textContent = "";
    ["#card-actions", "#insights", "#orders", "#channels", "#referrals", "#packing"].forEach(function (id) { $(id).hidden = true; });
    PANELS.forEach(function (panel) { panel.show(null, context()); });
    listCards([]);
    refreshCardList().catch(fail);
  }
  function showCard(card) {
    current = card;
    var form = $("#card-form");
    $("#editor-title").textContent = t("edit_card") + ": " + card.title;
    form.elements.title.value = card.title;
    form.elements.description.value = card.description;
    form.elements.image_url.value = card.image_url;
    form.elements.price.value = card.price.amount / Math.pow(10, exponent(card.price.currency));
    form.elements.currency.value = card.price.currency;
    form.elements.stock.value = card.stock.available + card.stock.held + card.stock.sold;
    form.elements.limit_per_buyer.value = card.limit_per_buyer || "";
    form.elements.starts_at.value = localInput(card.sale.starts_at);
    form.elements.ends_at.value = localInput(card.sale.ends_at);
    form.elements.share_text.value = card.share_text || "";
    form.elements.hold_minutes.value = Math.round(card.hold_seconds / 60);
    tapcardShipping.fill(form, card, exponent(card.price.currency));
    $("#packing").hidden = !card.shipping.required;
    $("#card-status").textContent = t(card.status) + " · " + card.sale.state;
    $("#snippet").value = card.snippet;
    ["#card-actions", "#insights", "#orders", "#channels", "#referrals"].forEach(function (id) { $(id).hidden = false; });
    PANELS.forEach(function (panel) { panel.show(card, context()); });
  }
  function selectCard(card) {
    showCard(card);
    document.querySelectorAll("#cards button").forEach(function (button) {
      button.setAttribute("aria-current", String(button.dataset.cardId === card.id));
    });
    reloadPreview();
    refreshInsights();
    loadOrders(true);
    loadChannels();
    loadPacking();
    clearInterval(timer);
    timer = setInterval(function () {
      if (document.hidden) return;
      refreshInsights();
      // New orders appear on their own while only the first page is shown and no dialog is open.
      if (!ordersCursor && !document.querySelector("dialog[open]")) loadOrders(true);
    }, REFRESH_MS);
  }
  function reloadPreview() {
    $("#preview").src = "/cards/" + encodeURIComponent(current.id) + "/widget?preview=1&t=" + Date.now();
  }
  function cardPayload(form) {
    var currency = form.elements.currency.value.trim().toUpperCase();
    var body = {
      title: form.elements.title.value, description: form.elements.description.value, image_url: form.elements.image_url.value,
      price: {amount: Math.round(Number(form.elements.price.value) * Math.pow(10, exponent(currency))), currency: currency},
      stock: Number(form.elements.stock.value),
      hold_seconds: Math.round(Number(form.elements.hold_minutes.value || 10) * 60),
      sale: {starts_at: form.elements.starts_at.value ? new Date(form.elements.starts_at.value).toISOString() : null,
             ends_at: form.elements.ends_at.value ? new Date(form.elements.ends_at.value).toISOString() : null}
    };
    if (form.elements.limit_per_buyer.value) body.limit_per_buyer = Number(form.elements.limit_per_buyer.value);
    else if (!current) delete body.limit_per_buyer;
    if (form.elements.share_text.value.trim()) body.share_text = form.elements.share_text.value;
    body.shipping = tapcardShipping.value(form, exponent(currency));
    if (current ? tapcardShipping.same(body.shipping, current.shipping) : !body.shipping.required) delete body.shipping;
    [tapcardCompareAt, tapcardGroup].forEach(function (part) { part.payload(body, form, current, exponent(currency)); });
    if (current) {
      // Send only what changed: locked fields that stay the same are no change.
      if (body.price.amount === current.price.amount && currency === current.price.currency) delete body.price;
      if (Math.round(current.hold_seconds / 60) * 60 === body.hold_seconds) body.hold_seconds = current.hold_seconds;
      if ((body.limit_per_buyer || null) === current.limit_per_buyer) delete body.limit_per_buyer;
      else if (!body.limit_per_buyer) body.limit_per_buyer = null;
    }
    return body;
  }
  function saveCard(event) {
    event.preventDefault();
    var body = cardPayload(event.target);
    var request = current ? api("PATCH", "/api/cards/" + encodeURIComponent(current.id), body) : api("POST", "/api/cards", body);
    request.then(function (card) {
      flash(t("saved"));
      return api("GET", "/api/cards/" + encodeURIComponent(card.id));
    }).then(function (card) {
      selectCard(card);
      return refreshCardList();
    }).catch(fail);
  }
  function cardAction(action) {
    api("POST", "/api/cards/" + encodeURIComponent(current.id) + "/" + action, {}).then(function (card) {
      selectCard(card);
      return refreshCardList();
    }).catch(fail);
  }

  // --- the funnel and sales -----------------------------------------------------------------

  function cardPath(id, rest) { return "/api/cards/" + encodeURIComponent(id) + rest; }
  function refreshInsights() {
    if (!current) return;
    var id = current.id;
    refreshReferrals(id);
    api("GET", "/api/cards/" + encodeURIComponent(id) + "/stats").then(function (stats) {
      if (!current || current.id !== id) return;
      drawFunnel(stats.total);
      $("#offer-totals").textContent = tapcardCodes.funnelLine(stats.total, stats.reviews, current.price.currency, context());
      tapcardCharts.sales($("#sales"), stats.days);
      var places = $("#places");
      places.textContent = "";
      Object.keys(stats.countries).slice(0, 8).forEach(function (place) {
        var counts = stats.countries[place];
        places.appendChild(el("li", place + ": " + counts.views + " " + t("views") + ", " + counts.paid + " " + t("paid")));
      });
    }).catch(fail);
  }
  function refreshReferrals(id) {
    api("GET", cardPath(id, "/referrals")).then(function (report) {
      if (!current || current.id !== id) return;
      $("#referral-totals").textContent = t("referral_visits") + ": " + report.referral_visits + " · " + t("referred_orders") + ": " +
        report.referred_orders + " · " + t("referred_revenue") + ": " + money(report.referred_revenue, current.price.currency);
      var list = $("#referrers");
      list.textContent = "";
      report.top_referrers.forEach(function (r) {
        list.appendChild(el("li", (r.name || r.code) + " · " + r.orders + " " + t("orders_word") + " · " + money(r.revenue, current.price.currency)));
      });
      if (!report.top_referrers.length) list.appendChild(el("li", t("no_referrals")));
    }).catch(fail);
  }
  function drawFunnel(total) {
    tapcardCharts.funnel($("#funnel"), total, t);
    var currency = current ? current.price.currency : "EUR";
    $("#totals").textContent = t("revenue") + ": " + money(total.revenue, currency) + " · " + total.units + " " + t("units") + tapcardCharts.groupTotals(total, t);
  }

  // --- orders -------------------------------------------------------------------------------

  function ordersPath(extra) {
    var status = $("#order-status").value;
    return "/api/cards/" + encodeURIComponent(current.id) + "/orders?" + (status ? "status=" + status + "&" : "") + extra;
  }
  function loadOrders(fromStart) {
    if (!current) return;
    if (fromStart) ordersCursor = null;
    api("GET", ordersPath("limit=25" + (ordersCursor ? "&cursor=" + encodeURIComponent(ordersCursor) : ""))).then(function (page) {
      if (fromStart) $("#order-rows").textContent = "";
      page.items.forEach(addOrderRow);
      ordersCursor = page.next_cursor;
      $("#more-orders").hidden = !ordersCursor;
    }).catch(fail);
  }
  function addOrderRow(order) {
    var row = el("tr", null, {"data-order-id": order.order_id});
    row.appendChild(el("td", new Date(order.created_at).toLocaleString(lang)));
    // What happened at Stripe beside the status: a dispute, a refund under way, a partial refund.
    var notes = [t("st_" + order.status)].concat(order.dispute ? [t("disputed") + " (" + order.dispute.reason + ")"] : [],
      order.refund_pending ? [t("refund_pending")] : [], order.status === "paid" && order.amount_refunded
      ? [t("part_refunded").replace("{amount}", money(order.amount_refunded, order.currency))] : []);
    var cell = el("td", notes.join(" · "), {"data-status": order.status});
    if (order.dispute) cell.setAttribute("data-disputed", "true");
    row.appendChild(cell);
    row.appendChild(el("td", order.quantity));
    row.appendChild(el("td", money(order.amount, order.currency)));
    row.appendChild(el("td", order.country || "–"));
    row.appendChild(el("td", order.fulfilment ? order.fulfilment.carrier + " " + order.fulfilment.tracking_number : "–"));
    var actions = el("td");
    if (order.status === "paid") {
      var ship = el("button", t("ship"), {type: "button", "data-action": "fulfil"});
      ship.addEventListener("click", function () { pendingOrder = order.order_id; $("#fulfil-dialog").showModal(); });
      var refund = el("button", t("refund_action"), {type: "button", "class": "danger", "data-action": "refund"});
      refund.addEventListener("click", function () { pendingOrder = order.order_id; $("#refund-dialog").showModal(); });
      actions.appendChild(ship);
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(refund);
    }
    row.appendChild(actions);
    $("#order-rows").appendChild(row);
  }
  function loadPacking() {
    if (current && current.shipping.required) tapcardShipping.packingList($("#packing-rows"), cardPath(current.id, ""), api, t).catch(fail);
  }
  function orderAction(path, body, done) {
    api("POST", "/api/orders/" + encodeURIComponent(pendingOrder) + "/" + path, body).then(function () {
      flash(t(done));
      loadOrders(true);
      loadPacking();
      refreshInsights();
    }).catch(fail);
  }
  function download(path, filename) {
    api("GET", path, undefined, true).then(function (text) {
      var link = el("a", null, {download: filename});
      link.href = URL.createObjectURL(new Blob([text], {type: "text/csv"}));
      document.body.appendChild(link);
      link.click();
      link.remove();
    }).catch(fail);
  }

  // --- share channels -----------------------------------------------------------------------

  function loadChannels() {
    var id = current.id;
    api("GET", cardPath(id, "/channels")).then(function (page) {
      if (!current || current.id !== id) return;
      var list = $("#channel-list");
      list.textContent = "";
      page.items.forEach(function (channel) {
        var item = list.appendChild(el("li", channel.type + ": " + (channel.url || channel.instance || channel.identifier || "") + " "));
        var test = item.appendChild(el("button", t("test_send"), {type: "button", "class": "link"}));
        test.addEventListener("click", function () {
          api("POST", cardPath(id, "/channels/" + encodeURIComponent(channel.id) + "/test"), {}).then(function (result) {
            flash(result.delivered ? t("sent") : t("not_sent") + (result.error || ""), !result.delivered);
          }).catch(fail);
        });
        if (channel.id === "webhook") return;  // the seller-wide webhook is managed with PUT /api/channels/webhook
        var remove = item.appendChild(el("button", t("remove"), {type: "button", "class": "link"}));
        remove.addEventListener("click", function () {
          api("DELETE", cardPath(id, "/channels/" + encodeURIComponent(channel.id)), undefined, true).then(loadChannels).catch(fail);
        });
      });
      if (!page.items.length) list.appendChild(el("li", t("no_channels")));
    }).catch(fail);
  }
  function addChannel(event) {
    event.preventDefault();
    var form = event.target, body = {type: form.dataset.type};
    Array.prototype.forEach.call(form.elements, function (input) { if (input.name) body[input.name] = input.value.trim(); });
    api("POST", cardPath(current.id, "/channels"), body).then(function (channel) {
      form.reset();
      $("#channel-secret").textContent = channel.secret ? t("secret_once") + channel.secret : "";
      flash(t("saved"));
      loadChannels();
    }).catch(fail);
  }
  // --- wiring -------------------------------------------------------------------------------

  $("#signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    signIn($("#apikey").value.trim()).catch(fail);
    $("#apikey").value = "";
  });
  $("#signup-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    api("POST", "/api/sellers", {name: form.elements.name.value, email: form.elements.email.value}).then(function (created) {
      $("#new-key").textContent = t("key_once") + created.api_key;
      return signIn(created.api_key);
    }).catch(fail);
  });
  $("#signout").addEventListener("click", signOut);
  $("#lang").addEventListener("click", function () { lang = nextLocale(); translate(); });
  $("#new-card").addEventListener("click", newCard);
  $("#card-form").addEventListener("submit", saveCard);
  document.querySelectorAll("#card-actions [data-action]").forEach(function (button) {
    button.addEventListener("click", function () { cardAction(button.dataset.action); });
  });
  $("#copy").addEventListener("click", function () {
    var copied = navigator.clipboard ? navigator.clipboard.writeText($("#snippet").value) : Promise.reject(new Error("no clipboard"));
    copied.then(function () { flash(t("copied")); }, function () { $("#snippet").select(); document.execCommand("copy"); flash(t("copied")); });
  });
  $("#order-status").addEventListener("change", function () { loadOrders(true); });
  $("#more-orders").addEventListener("click", function () { loadOrders(false); });
  $("#export").addEventListener("click", function () { download(ordersPath("format=csv"), "orders-" + current.id + ".csv"); });
  document.querySelectorAll(".channel-form").forEach(function (form) { form.addEventListener("submit", addChannel); });
  $("#referrals-csv").addEventListener("click", function () {
    download(cardPath(current.id, "/referrals?format=csv"), "referrals-" + current.id + ".csv");
  });
  $("#fulfil-dialog").addEventListener("close", function () {
    var form = $("#fulfil-form");
    if ($("#fulfil-dialog").returnValue === "ok") {
      orderAction("fulfil", {carrier: form.elements.carrier.value, tracking_number: form.elements.tracking_number.value}, "shipped_done");
    }
    form.reset();
  });
  $("#refund-dialog").addEventListener("close", function () {
    if ($("#refund-dialog").returnValue === "ok") orderAction("refund", {restock: $("#refund-form").elements.restock.checked}, "refunded_done");
    $("#refund-form").reset();
  });

  translate();
  if (apiKey()) signIn(apiKey()).catch(fail);
})();
