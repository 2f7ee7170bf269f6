/* tapcard dashboard: the After-sales tab (dashboard_aftersales.html). Lists the seller's requests
   (GET /api/requests?status=), each with its thread and photos (short-lived links the API signs),
   and answers them: approve with return instructions, decline with a reason, refund (restock or
   not), close, or write to the buyer. Inlined after dashboard.js; it reads the same key
   (sessionStorage) and words (#tc-words), loads when the signed-in app shows, and follows the
   page's language (<html lang>). */
(function () {
  "use strict";
  var WORDS = JSON.parse(document.getElementById("tc-words").textContent);
  var list = document.getElementById("request-list"), filter = document.getElementById("request-status");
  var app = document.getElementById("app"), items = [];
  if (!list || !app) return;

  function t(key) {
    var lang = document.documentElement.lang;
    return (WORDS[lang] || WORDS.en)[key] || WORDS.en[key] || key;
  }
  function typeWord(type) {
    return {return: t("rq_type_return"), refund: t("rq_type_refund"), not_received: t("rq_type_not_received"),
            damaged: t("rq_type_damaged")}[type] || type;
  }
  function statusWord(status) {
    return {open: t("rq_status_open"), approved: t("rq_status_approved"), declined: t("rq_status_declined"),
            refunded: t("rq_status_refunded"), closed: t("rq_status_closed")}[status] || status;
  }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }
  function say(message, isError) {
    var box = document.getElementById("flash");
    box.textContent = message;
    box.className = isError ? "error" : "";
  }
  function api(method, path, body) {
    var headers = {"Authorization": "Bearer " + sessionStorage.getItem("tapcard.apiKey")};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            var error = (data && data.error) || {};
            throw new Error((error.field ? error.field + ": " : "") + (error.message || response.status));
          }
          return data;
        });
      });
  }

  function load() {
    if (!sessionStorage.getItem("tapcard.apiKey")) return Promise.resolve();
    return api("GET", "/api/requests?limit=50" + (filter.value ? "&status=" + filter.value : ""))
      .then(function (page) { items = page.items; render(); })
      .catch(function (error) { say(error.message, true); });
  }
  function act(request, action, body) {
    return api("POST", "/api/requests/" + encodeURIComponent(request.request_id) + "/" + action, body)
      .then(function () { say(t("rq_done")); return load(); })
      .catch(function (error) { say(error.message, true); });
  }
  // A one-field form (label, input or checkbox, button) whose submit calls send(value).
  function small(label, name, send, options) {
    var form = el("form", null, {"class": "rq-action", "data-action": name});
    var id = "rq-" + name + "-" + Math.random().toString(36).slice(2);
    var input = options.checkbox ? el("input", null, {type: "checkbox", id: id, checked: ""})
      : el(options.long ? "textarea" : "input", null, {id: id, required: "", maxlength: String(options.max), rows: "2"});
    var field = el("label", null, options.checkbox ? {"class": "inline", "for": id} : {"for": id});
    if (options.checkbox) { field.appendChild(input); field.appendChild(document.createTextNode(" " + label)); }
    else { field.textContent = label; }
    form.appendChild(field);
    if (!options.checkbox) form.appendChild(input);
    form.appendChild(el("button", options.button, {type: "submit", "class": options.danger ? "danger" : ""}));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(options.checkbox ? input.checked : input.value);
    });
    return form;
  }
  function card(request) {
    var article = el("article", null, {"class": "request", "data-request-id": request.request_id,
                                        "data-status": request.status});
    article.appendChild(el("h3", typeWord(request.type) + " · " + statusWord(request.status)));
    article.appendChild(el("p", t("rq_order") + " " + request.order_id + " · " + request.created_at, {"class": "hint"}));
    if (request.instructions) article.appendChild(el("p", t("rq_instructions") + ": " + request.instructions));
    if (request.reason) article.appendChild(el("p", t("rq_reason") + ": " + request.reason));
    var thread = article.appendChild(el("ol", null, {"class": "thread"}));
    request.messages.forEach(function (message) {
      thread.appendChild(el("li", t(message.author === "buyer" ? "rq_from_buyer" : "rq_from_seller") + " " + message.text));
    });
    request.photos.forEach(function (photo, index) {
      var link = article.appendChild(el("a", null, {href: photo.url, target: "_blank", rel: "noopener"}));
      link.appendChild(el("img", null, {src: photo.url, alt: t("rq_photo") + " " + (index + 1), width: "96"}));
    });
    if (request.status === "open") {
      article.appendChild(small(t("rq_instructions"), "approve", function (value) {
        act(request, "approve", {instructions: value}); }, {long: true, max: 2000, button: t("rq_approve")}));
      article.appendChild(small(t("rq_reason"), "decline", function (value) {
        act(request, "decline", {reason: value}); }, {max: 500, button: t("rq_decline"), danger: true}));
    }
    if (request.status === "open" || request.status === "approved") {
      article.appendChild(small(t("rq_restock"), "refund", function (value) {
        act(request, "refund", {restock: value}); }, {checkbox: true, button: t("rq_refund"), danger: true}));
    }
    if (request.status !== "closed") {
      article.appendChild(small(t("rq_message"), "messages", function (value) {
        act(request, "messages", {text: value}); }, {long: true, max: 2000, button: t("rq_send")}));
      var close = article.appendChild(el("button", t("rq_close"), {type: "button", "class": "link"}));
      close.addEventListener("click", function () { act(request, "close", {}); });
    }
    return article;
  }
  function render() {
    list.textContent = "";
    if (!items.length) list.appendChild(el("p", t("rq_none"), {"class": "hint"}));
    items.forEach(function (request) { list.appendChild(card(request)); });
  }

  filter.addEventListener("change", load);
  document.getElementById("requests-refresh").addEventListener("click", load);
  // Signed in: the app shows. The language button: <html lang> changes.
  new MutationObserver(function () { if (!app.hidden) load(); }).observe(app, {attributes: true, attributeFilter: ["hidden"]});
  new MutationObserver(render).observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
  if (!app.hidden) load();
})();
