(() => {
  "use strict";
  const WORDS = JSON.parse(document.getElementById("dashboard-words").textContent);
  const KEY = "tapcard-api-key", LANG = "tapcard-lang";
  const $ = (name) => document.querySelector(`[data-d="${name}"]`);
  // The key lives in this tab's session storage only: never local storage, cookies or the URL.
  const state = { key: sessionStorage.getItem(KEY), card: null, cardsCursor: null, ordersCursor: null, timer: null };
  let lang = sessionStorage.getItem(LANG) || (/^zh/i.test(navigator.language) ? "zh-CN" : "en");

  const w = (name) => WORDS[lang][name] || name;

  function translate() {
    document.documentElement.lang = lang;
    document.title = w("title");
    $("lang").value = lang;
    document.querySelectorAll("[data-w]").forEach((el) => { el.textContent = w(el.dataset.w); });
    $("save").textContent = w(state.card ? "save" : "create");
    $("editor-title").textContent = state.card ? state.card.title : w("new_card");
  }

  /** Build an element; text goes in as text, never as HTML. */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) el.setAttribute(name, value === true ? "" : value);
    }
    el.append(...children.flat().filter((c) => c !== null && c !== undefined).map((c) => (c instanceof Node ? c : String(c))));
    return el;
  }

  async function api(method, path, body) {
    const init = { method, headers: { Authorization: `Bearer ${state.key}` } };
    if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    const response = await fetch(path, init);
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (response.status === 401 && state.key) signOut(w("bad_key"));
    return { status: response.status, data };
  }

  const errorOf = (res) => (res.data && res.data.error ? res.data.error.message : w("error"));

  // --- money and time ------------------------------------------------------------------------

  function exponent(currency) {
    try { return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits; } catch (e) { return 2; }
  }
  function money(amount, currency) {
    try { return new Intl.NumberFormat(lang, { style: "currency", currency }).format(amount / 10 ** exponent(currency)); } catch (e) { return `${amount} ${currency}`; }
  }
  const number = (n) => new Intl.NumberFormat(lang).format(n || 0);
  const when = (iso) => (iso ? new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short" }).format(new Date(iso)) : "");
  function localInput(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  // --- signing in ----------------------------------------------------------------------------

  async function signIn(key) {
    state.key = key;
    const res = await api("GET", "/api/cards?limit=20");
    if (res.status !== 200) { signOut(res.status === 401 ? w("bad_key") : errorOf(res)); return; }
    sessionStorage.setItem(KEY, key);
    $("signin").hidden = true;
    $("app").hidden = false;
    $("sign-out").hidden = false;
    showCards(res.data, true);
    newCard();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    Object.assign(state, { key: null, card: null });
    clearInterval(state.timer);
    $("app").hidden = true;
    $("sign-out").hidden = true;
    $("signin").hidden = false;
    $("signin-message").textContent = message || "";
  }

  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn(e.target.key.value.trim());
  });

  $("signup-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    const response = await fetch("/api/sellers", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: form.name.value, email: form.email.value }) });
    const data = await response.json();
    const message = $("signin-message");
    if (response.status !== 201) { message.textContent = data.error ? data.error.message : w("error"); return; }
    message.replaceChildren(w("your_key"), h("p", { class: "secret", "data-d": "new-key" }, data.api_key));
    $("signin-form").key.value = data.api_key;
  });

  $("sign-out").addEventListener("click", () => signOut());
  $("lang").addEventListener("change", (e) => {
    lang = e.target.value;
    sessionStorage.setItem(LANG, lang);
    translate();
    if (state.card) showCard(state.card);
  });

  // --- cards ---------------------------------------------------------------------------------

  function showCards(page, replace) {
    const list = $("card-list");
    if (replace) list.replaceChildren();
    for (const card of page.items) {
      list.append(h("li", {}, h("button", { type: "button", "data-card": card.id, onclick: () => openCard(card.id) },
        card.title, h("small", {}, `${card.sale.state} · ${number(card.stock.available)}/${number(card.stock.available + card.stock.sold + (card.stock.held || 0))} · ${card.status || ""}`))));
    }
    if (!list.children.length) list.append(h("li", { class: "hint" }, w("no_cards")));
    state.cardsCursor = page.next_cursor;
    $("more-cards").hidden = !page.next_cursor;
  }

  async function reloadCards() {
    const res = await api("GET", "/api/cards?limit=20");
    if (res.status === 200) showCards(res.data, true);
    markCurrent();
  }

  function markCurrent() {
    document.querySelectorAll("[data-card]").forEach((b) => b.setAttribute("aria-current", String(!!state.card && b.dataset.card === state.card.id)));
  }

  $("more-cards").addEventListener("click", async () => {
    const res = await api("GET", `/api/cards?limit=20&cursor=${encodeURIComponent(state.cardsCursor)}`);
    if (res.status === 200) showCards(res.data, false);
  });

  function newCard() {
    state.card = null;
    clearInterval(state.timer);
    $("card-form").reset();
    $("card-details").hidden = true;
    $("status-actions").hidden = true;
    $("form-message").textContent = "";
    translate();
    markCurrent();
  }
  $("new-card").addEventListener("click", newCard);

  async function openCard(cardId) {
    const res = await api("GET", `/api/cards/${cardId}`);
    if (res.status !== 200) { $("form-message").textContent = errorOf(res); return; }
    $("form-message").textContent = "";
    showCard(res.data);
    $("preview").src = `/cards/${cardId}/widget`;
    loadOrders(true);
    loadChannels();
    refreshInsights();
    clearInterval(state.timer);
    // A live sale moves by the second: the numbers follow while the tab is visible.
    state.timer = setInterval(() => { if (!document.hidden && state.card && state.card.sale.state === "live") refreshInsights(); }, 10000);
  }

  function showCard(card) {
    state.card = card;
    const form = $("card-form");
    form.title.value = card.title;
    form.description.value = card.description || "";
    form.image_url.value = card.image_url;
    form.price.value = (card.price.amount / 10 ** exponent(card.price.currency)).toFixed(exponent(card.price.currency));
    form.currency.value = card.price.currency;
    form.stock.value = card.stock.available + card.stock.sold + (card.stock.held || 0);
    form.limit_per_buyer.value = card.limit_per_buyer || "";
    form.starts_at.value = localInput(card.sale.starts_at);
    form.ends_at.value = localInput(card.sale.ends_at);
    form.hold_seconds.value = card.hold_seconds;
    form.share_text.value = card.share_text || "";
    $("snippet").value = card.snippet || "";
    $("card-status").textContent = card.status || "";
    $("card-state").textContent = card.sale.state;
    $("publish").hidden = card.status === "published" || card.status === "archived";
    $("unpublish").hidden = card.status !== "published";
    $("archive").hidden = card.status === "archived";
    $("status-actions").hidden = false;
    $("card-details").hidden = false;
    $("refreshing").hidden = card.sale.state !== "live";
    translate();
    markCurrent();
  }

  function cardFromForm(form) {
    const currency = form.currency.value.trim().toUpperCase();
    const optionalTime = (input) => (input.value ? new Date(input.value).toISOString() : null);
    const body = {
      title: form.title.value.trim(),
      description: form.description.value.trim(),
      image_url: form.image_url.value.trim(),
      price: { amount: Math.round(parseFloat(form.price.value.replace(",", ".")) * 10 ** exponent(currency)), currency },
      stock: parseInt(form.stock.value, 10),
      hold_seconds: parseInt(form.hold_seconds.value || "600", 10),
      sale: { starts_at: optionalTime(form.starts_at), ends_at: optionalTime(form.ends_at) },
      limit_per_buyer: form.limit_per_buyer.value ? parseInt(form.limit_per_buyer.value, 10) : null,
    };
    if (form.share_text.value.trim()) body.share_text = form.share_text.value.trim();
    return body;
  }

  /** Only what the seller changed: a live sale refuses some changes (price once sold, for one). */
  function changes(card, body) {
    const before = {
      title: card.title, description: card.description || "", image_url: card.image_url, price: card.price,
      stock: card.stock.available + card.stock.sold + (card.stock.held || 0), hold_seconds: card.hold_seconds,
      sale: { starts_at: card.sale.starts_at && new Date(card.sale.starts_at).toISOString(), ends_at: card.sale.ends_at && new Date(card.sale.ends_at).toISOString() },
      limit_per_buyer: card.limit_per_buyer || null, share_text: card.share_text,
    };
    return Object.fromEntries(Object.entries(body).filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(before[name])));
  }

  $("card-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = cardFromForm(e.target), message = $("form-message");
    $("save").disabled = true;
    const res = state.card
      ? await api("PATCH", `/api/cards/${state.card.id}`, changes(state.card, body))
      : await api("POST", "/api/cards", body);
    $("save").disabled = false;
    if (res.status !== 200 && res.status !== 201) { message.textContent = errorOf(res); return; }
    const created = res.status === 201;
    await reloadCards();
    await openCard(res.data.id);
    message.textContent = w(created ? "created" : "saved");
  });

  for (const action of ["publish", "unpublish", "archive"]) {
    $(action).addEventListener("click", async () => {
      if (action === "archive" && !confirm(w("archive_confirm"))) return;
      const res = await api("POST", `/api/cards/${state.card.id}/${action}`);
      if (res.status !== 200) { $("form-message").textContent = errorOf(res); return; }
      showCard(res.data);
      reloadCards();
    });
  }

  $("copy-snippet").addEventListener("click", async () => {
    $("snippet").select();
    try { await navigator.clipboard.writeText($("snippet").value); } catch (e) { document.execCommand("copy"); }
    $("form-message").textContent = w("copied");
  });

  // --- funnel, sales, places ----------------------------------------------------------------

  async function refreshInsights() {
    const card = state.card;
    const [stats, fresh, referrals] = await Promise.all([
      api("GET", `/api/cards/${card.id}/stats`), api("GET", `/api/cards/${card.id}`), api("GET", `/api/cards/${card.id}/referrals`)]);
    if (!state.card || state.card.id !== card.id) return;
    if (fresh.status === 200) { state.card = fresh.data; $("card-state").textContent = fresh.data.sale.state; $("refreshing").hidden = fresh.data.sale.state !== "live"; }
    if (stats.status === 200) showStats(stats.data);
    if (referrals.status === 200) showReferrals(referrals.data);
    if (card.sale.state === "live") loadOrders(true);
  }

  function bars(rows, format) {
    const max = Math.max(1, ...rows.map((r) => r.value)), height = 26, width = 600;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${rows.length * height + 4}`);
    svg.setAttribute("role", "img");
    rows.forEach((row, i) => {
      const bar = document.createElementNS(svg.namespaceURI, "rect");
      Object.entries({ x: 150, y: i * height + 4, height: height - 8, width: Math.max(2, (row.value / max) * (width - 260)), fill: "#b43d1a", rx: 3 })
        .forEach(([k, v]) => bar.setAttribute(k, v));
      const label = document.createElementNS(svg.namespaceURI, "text");
      label.setAttribute("x", 0); label.setAttribute("y", i * height + 18);
      label.textContent = row.label;
      const value = document.createElementNS(svg.namespaceURI, "text");
      value.setAttribute("x", 156 + Math.max(2, (row.value / max) * (width - 260))); value.setAttribute("y", i * height + 18);
      value.textContent = format(row);
      svg.append(bar, label, value);
    });
    svg.setAttribute("aria-label", rows.map((r) => `${r.label}: ${format(r)}`).join(", "));
    return svg;
  }

  function showStats(stats) {
    const total = stats.total, rate = (r) => (r === null || r === undefined ? "" : ` (${(r * 100).toFixed(1)}%)`);
    const steps = ["views", "taps", "holds", "paid"];
    $("funnel").replaceChildren(bars(steps.map((name, i) => ({
      label: w(name), value: total[name] || 0,
      conversion: i ? total.conversion[`${steps[i - 1]}_to_${name}`] : null,
    })), (row) => number(row.value) + rate(row.conversion))));
    const currency = state.card.price.currency;
    $("totals").replaceChildren(...["units", "revenue", "expired_holds", "refunds", "shares_posted", "referral_visits", "referred_orders"]
      .map((name) => h("div", {}, h("dt", {}, w(name)), h("dd", { "data-total": name }, name === "revenue" ? money(total[name] || 0, currency) : number(total[name])))));
    const days = stats.days.filter((d) => d.paid || d.units);
    $("sales").replaceChildren(days.length
      ? bars(days.map((d) => ({ label: d.day, value: d.units || 0, revenue: d.revenue || 0 })), (row) => `${number(row.value)} · ${money(row.revenue, currency)}`)
      : h("p", { class: "hint" }, w("no_sales")));
    const places = Object.entries(stats.countries || {}).sort((a, b) => (b[1].paid || 0) - (a[1].paid || 0) || (b[1].views || 0) - (a[1].views || 0));
    $("countries").replaceChildren(...places.map(([place, counts]) => h("li", {}, `${place}: ${number(counts.paid)} ${w("paid")} · ${number(counts.views)} ${w("views")}`)));
  }

  function showReferrals(report) {
    const currency = state.card.price.currency;
    $("referral-totals").replaceChildren(
      h("div", {}, h("dt", {}, w("referral_visits")), h("dd", {}, number(report.referral_visits))),
      h("div", {}, h("dt", {}, w("referred_orders")), h("dd", {}, number(report.referred_orders))),
      h("div", {}, h("dt", {}, w("revenue")), h("dd", {}, money(report.referred_revenue || 0, currency))));
    const top = report.top_referrers || [];
    $("referrers").replaceChildren(...(top.length ? top.map((r) => h("li", {},
      `${r.referral_code || r.code} · ${number(r.orders ?? r.referred_orders)} · ${money(r.revenue ?? r.referred_revenue ?? 0, currency)}`))
      : [h("li", { class: "hint" }, w("no_referrals"))]));
  }

  // --- orders --------------------------------------------------------------------------------

  async function loadOrders(replace) {
    const status = $("order-filter").value;
    let path = `/api/cards/${state.card.id}/orders?limit=50${status ? `&status=${status}` : ""}`;
    if (!replace && state.ordersCursor) path += `&cursor=${encodeURIComponent(state.ordersCursor)}`;
    const res = await api("GET", path);
    if (res.status !== 200) return;
    const body = $("orders").tBodies[0];
    if (replace) body.replaceChildren();
    res.data.items.forEach((order) => body.append(orderRow(order)));
    if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 8, class: "hint" }, w("no_orders"))));
    state.ordersCursor = res.data.next_cursor;
    $("more-orders").hidden = !res.data.next_cursor;
  }

  function orderRow(order) {
    const fulfilment = order.fulfilment || (order.carrier ? { carrier: order.carrier, tracking_number: order.tracking_number } : null);
    const actions = h("td", {});
    if (order.status === "paid") {
      if (!fulfilment) {
        actions.append(h("form", { "data-action": "fulfil", onsubmit: (e) => fulfil(e, order) },
          h("input", { name: "carrier", required: true, placeholder: w("carrier"), "aria-label": w("carrier") }),
          h("input", { name: "tracking_number", required: true, placeholder: w("tracking_number"), "aria-label": w("tracking_number") }),
          h("button", { type: "submit", class: "secondary" }, w("fulfil"))));
      }
      actions.append(h("form", { "data-action": "refund", onsubmit: (e) => refund(e, order) },
        h("label", {}, h("input", { type: "checkbox", name: "restock", checked: true }), " ", w("restock")),
        h("button", { type: "submit", class: "secondary" }, w("refund"))));
    }
    return h("tr", { "data-order": order.order_id },
      h("td", {}, h("code", {}, order.order_id)), h("td", {}, when(order.created_at)), h("td", { "data-col": "status" }, order.status),
      h("td", {}, order.quantity), h("td", {}, money(order.amount, order.currency)), h("td", {}, order.country || ""),
      h("td", { "data-col": "fulfilment" }, fulfilment ? `${fulfilment.carrier} ${fulfilment.tracking_number}` : ""), actions);
  }

  async function fulfil(e, order) {
    e.preventDefault();
    const form = e.target;
    const res = await api("POST", `/api/orders/${order.order_id}/fulfil`, { carrier: form.carrier.value, tracking_number: form.tracking_number.value });
    if (res.status !== 200) { alert(errorOf(res)); return; }
    form.closest("tr").replaceWith(orderRow(res.data));
  }

  async function refund(e, order) {
    e.preventDefault();
    if (!confirm(w("refund_confirm"))) return;
    const res = await api("POST", `/api/orders/${order.order_id}/refund`, { restock: e.target.restock.checked });
    if (res.status !== 200) { alert(errorOf(res)); return; }
    e.target.closest("tr").replaceWith(orderRow(res.data));
    refreshInsights();
  }

  $("order-filter").addEventListener("change", () => loadOrders(true));
  $("more-orders").addEventListener("click", () => loadOrders(false));
  $("export").addEventListener("click", async () => {
    // The key travels in a header, so the file is fetched here and handed to the browser.
    const res = await api("GET", `/api/cards/${state.card.id}/orders?format=csv`);
    if (res.status !== 200) return;
    const link = h("a", { href: URL.createObjectURL(new Blob([res.data], { type: "text/csv" })), download: `${state.card.id}-orders.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  });

  // --- share channels ------------------------------------------------------------------------

  async function loadChannels() {
    const res = await api("GET", `/api/cards/${state.card.id}/channels`);
    if (res.status !== 200) return;
    const items = res.data.items || [];
    $("channels").replaceChildren(...(items.length ? items.map((channel) => h("li", { "data-channel": channel.id },
      `${channel.type}: ${channel.url || channel.instance || channel.identifier || ""} `,
      channel.last_failure ? h("small", {}, ` (${channel.last_failure}) `) : null,
      h("button", { type: "button", class: "link", onclick: () => testSend(channel) }, w("test_send")),
      h("button", { type: "button", class: "link", onclick: () => removeChannel(channel) }, w("remove"))))
      : [h("li", { class: "hint" }, w("no_channels"))]));
  }

  async function testSend(channel) {
    const res = await api("POST", `/api/cards/${state.card.id}/channels/${channel.id}/test`);
    $("channel-message").textContent = res.status === 200 ? w("sent") : errorOf(res);
  }

  async function removeChannel(channel) {
    await api("DELETE", `/api/cards/${state.card.id}/channels/${channel.id}`);
    loadChannels();
  }

  for (const kind of ["webhook", "mastodon", "bluesky"]) {
    $(`add-${kind}`).addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = Object.fromEntries(new FormData(e.target));
      const res = await api("POST", `/api/cards/${state.card.id}/channels`, body);
      const message = $("channel-message");
      if (res.status !== 201) { message.textContent = errorOf(res); return; }
      e.target.reset();
      message.replaceChildren(...(res.data.secret ? [w("secret_once"), " ", h("span", { class: "secret", "data-d": "channel-secret" }, res.data.secret)] : [w("saved")]));
      loadChannels();
    });
  }

  translate();
  if (state.key) signIn(state.key);
})();
