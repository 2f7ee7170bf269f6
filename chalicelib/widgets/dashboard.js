/* tapcard dashboard: the seller's page. Talks only to this origin's /api with the key kept in
   sessionStorage (gone when the tab closes). No library: DOM, fetch and a little SVG. */
(function () {
  "use strict";
  var KEY = "tapcard.apiKey";
  var REFRESH_MS = 5000;
  var WORDS = {
    en: {},
    zh: {
      dashboard: "控制台", signout: "退出", signin: "用 API 密钥登录", apikey: "API 密钥", signin_button: "登录",
      key_hint: "密钥只保存在此标签页（会话存储）。", signup: "还没有账号？创建卖家账号", name: "名称", email: "邮箱",
      signup_button: "创建账号", new_card: "+ 新建商品卡", new_card_title: "新建商品卡", edit_card: "编辑商品卡",
      title: "标题", description: "描述", image_url: "图片链接", price: "价格", currency: "币种", stock: "库存",
      limit: "每人限购", hold: "付款时限（分钟）", starts: "开售时间", ends: "结束时间", share_text: "分享文案", save: "保存",
      publish: "上架", unpublish: "下架", archive: "归档", snippet: "贴到文章里的代码", copy: "复制代码",
      preview: "实时预览", funnel: "转化漏斗", sales: "销售趋势", places: "买家地区", orders: "订单", all: "全部",
      st_paid: "已付款", st_held: "待付款", st_refunded: "已退款", st_expired: "已过期", st_canceled: "已取消",
      export: "导出 CSV", when: "时间", status: "状态", qty: "数量", amount: "金额", where: "地区", shipping: "物流",
      more: "更多", fulfil: "标记为已发货", carrier: "承运商", tracking: "运单号", fulfil_button: "保存物流",
      cancel: "取消", refund: "确认退款？", restock: "商品重新上架", refund_button: "退款", ship: "发货",
      refund_action: "退款", saved: "已保存", copied: "已复制", signed_in: "已登录", bad_key: "密钥无效或已撤销",
      key_once: "您的 API 密钥（只显示一次，请保存）：", views: "浏览", taps: "点击购买", holds: "锁定库存",
      paid: "付款", units: "件", revenue: "收入", published: "已上架", unpublished: "已下架", archived: "已归档",
      refunded_done: "已退款", shipped_done: "已发货",
      channels: "分享渠道", channels_hint: "每笔付款订单都会分享到商品卡自己的动态，以及下面这些渠道。",
      webhook_url: "Webhook 网址", add_webhook: "添加 Webhook", mastodon_instance: "Mastodon 实例",
      access_token: "访问令牌", add_mastodon: "添加 Mastodon", bluesky_handle: "Bluesky 账号", app_password: "应用密码",
      add_bluesky: "添加 Bluesky", test_send: "测试发送", remove: "删除", sent: "已发送", not_sent: "发送失败：",
      secret_once: "签名密钥（只显示一次，请保存）：", no_channels: "还没有渠道，分享只发到商品卡自己的动态。",
      referrals: "推荐排行榜", export_rebates: "导出返利 (CSV)", referral_visits: "推荐访问",
      referred_orders: "推荐订单", referred_revenue: "推荐收入", no_referrals: "还没有推荐订单。", orders_word: "单"
    }
  };
  var EN = {
    saved: "Saved", copied: "Copied", signed_in: "Signed in", bad_key: "This key is not valid or was revoked",
    key_once: "Your API key (shown once, keep it safe): ", views: "Views", taps: "Taps", holds: "Holds",
    paid: "Paid", units: "units", revenue: "Revenue", published: "published", unpublished: "unpublished",
    archived: "archived", ship: "Ship", refund_action: "Refund", refunded_done: "Refunded",
    shipped_done: "Marked as shipped", edit_card: "Edit card", new_card_title: "New card", st_canceled: "Canceled",
    test_send: "Test send", remove: "Remove", sent: "Sent", not_sent: "Not sent: ",
    secret_once: "Signing secret (shown once, keep it safe): ", no_channels: "No channels yet: shares go to the card's own feed only.",
    referral_visits: "Referral visits", referred_orders: "Referred orders", referred_revenue: "Referred revenue",
    no_referrals: "No referred orders yet.", orders_word: "orders"
  };
  var lang = /^zh/i.test(navigator.language || "") ? "zh" : "en";
  var current = null;      // the card being edited, as the API returned it
  var timer = null;
  var ordersCursor = null;
  var pendingOrder = null; // the order a dialog acts on

  function $(selector) { return document.querySelector(selector); }
  function t(key) {
    var fromPage = document.querySelector("[data-i18n=" + key + "]");
    return (WORDS[lang] && WORDS[lang][key]) || EN[key] || (fromPage && fromPage.dataset.en) || key;
  }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function flash(message, isError) {
    var box = $("#flash");
    box.textContent = message;
    box.className = isError ? "error" : "";
  }
  function translate() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      if (!node.dataset.en) node.dataset.en = node.textContent;
      node.textContent = lang === "zh" ? (WORDS.zh[node.dataset.i18n] || node.dataset.en) : node.dataset.en;
    });
    $("#lang").textContent = lang === "zh" ? "English" : "中文";
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
            throw new Error((error.field ? error.field + ": " : "") + (error.message || response.status));
          }
          return data;
        });
      });
  }
  function fail(error) { flash(error.message, true); }

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
    try {
      return new Intl.NumberFormat("en", {style: "currency", currency: currency}).resolvedOptions().maximumFractionDigits;
    } catch (e) { return 2; }
  }
  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en", {style: "currency", currency: currency})
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
    ["#card-actions", "#insights", "#orders", "#channels", "#referrals"].forEach(function (id) { $(id).hidden = true; });
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
    $("#card-status").textContent = t(card.status) + " · " + card.sale.state;
    $("#snippet").value = card.snippet;
    ["#card-actions", "#insights", "#orders", "#channels", "#referrals"].forEach(function (id) { $(id).hidden = false; });
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
      drawSales(stats.days);
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
    var chart = $("#funnel");
    chart.textContent = "";
    var steps = ["views", "taps", "holds", "paid"];
    var top = Math.max(1, total.views, total.taps);
    steps.forEach(function (step, i) {
      var width = Math.max(1, 200 * total[step] / top);
      chart.appendChild(svg("rect", {"class": "bar", x: 70, y: i * 32 + 4, width: width, height: 22, rx: 3}));
      chart.appendChild(svg("text", {x: 0, y: i * 32 + 19}, t(step)));
      var rate = i ? total.conversion[steps[i - 1] + "_to_" + step] : null;
      var label = total[step] + (rate === null || rate === undefined ? "" : "  (" + Math.round(rate * 100) + "%)");
      chart.appendChild(svg("text", {x: 74 + width, y: i * 32 + 19, "data-step": step}, label));
    });
    var currency = current ? current.price.currency : "EUR";
    $("#totals").textContent = t("revenue") + ": " + money(total.revenue, currency) + " · " + total.units + " " + t("units");
  }
  function drawSales(days) {
    var chart = $("#sales");
    chart.textContent = "";
    var top = Math.max(1, Math.max.apply(null, days.map(function (d) { return d.paid; })));
    var width = 320 / days.length;
    days.forEach(function (day, i) {
      var height = 80 * day.paid / top;
      var bar = svg("rect", {"class": "bar", x: i * width + 1, y: 84 - height, width: Math.max(1, width - 2), height: height});
      bar.appendChild(svg("title", {}, day.day + ": " + day.paid));
      chart.appendChild(bar);
    });
    chart.appendChild(svg("text", {x: 0, y: 96}, days[0].day));
    chart.appendChild(svg("text", {x: 320, y: 96, "text-anchor": "end"}, days[days.length - 1].day));
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
    row.appendChild(el("td", new Date(order.created_at).toLocaleString(lang === "zh" ? "zh-CN" : "en")));
    row.appendChild(el("td", t("st_" + order.status), {"data-status": order.status}));
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
  function orderAction(path, body, done) {
    api("POST", "/api/orders/" + encodeURIComponent(pendingOrder) + "/" + path, body).then(function () {
      flash(t(done));
      loadOrders(true);
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
  $("#lang").addEventListener("click", function () { lang = lang === "zh" ? "en" : "zh"; translate(); });
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
