/* tapcard dashboard: the card's reviews (dashboard_reviews.html): the rating, every review (hidden
   ones with why), a reply to each and hiding one with a reason (dashboard_review_dialogs.html).
   Buyers' and the seller's text is set as text, never as HTML. dashboard.js calls
   tapcardReviews.show(card, ctx) when a card is shown (null: none). */
var tapcardReviews = (function () {
  "use strict";
  var ctx = null, card = null, pending = null;
  function $(selector) { return document.querySelector(selector); }
  function path(rest) { return "/api/cards/" + encodeURIComponent(card.id) + "/reviews" + (rest || ""); }
  function stars(rating) { return "★★★★★".slice(0, rating) + "☆☆☆☆☆".slice(rating); }
  function button(label, review, dialog) {
    var node = ctx.el("button", ctx.t(label), {type: "button", "class": "link", "data-action": label});
    node.addEventListener("click", function () { pending = review.order_id; $(dialog).showModal(); });
    return node;
  }
  function item(review) {
    var node = ctx.el("li", null, {"data-order-id": review.order_id});
    node.appendChild(ctx.el("strong", stars(review.rating), {"aria-label": review.rating + "/5"}));
    node.appendChild(document.createTextNode(" " + (review.name || ctx.t("anonymous_buyer")) + " · " +
      new Date(review.created_at).toLocaleDateString(ctx.lang)));
    if (review.text) node.appendChild(ctx.el("p", review.text));
    if (review.reply) node.appendChild(ctx.el("p", ctx.t("your_reply") + review.reply.text, {"class": "hint"}));
    if (review.hidden) node.appendChild(ctx.el("p", ctx.t("hidden_because") + review.hidden.reason, {"class": "hint", "data-hidden": ""}));
    node.appendChild(button("reply", review, "#reply-dialog"));
    if (!review.hidden) node.appendChild(button("hide", review, "#hide-dialog"));
    return node;
  }
  function load() {
    var id = card.id;
    return ctx.api("GET", path("?limit=100")).then(function (page) {
      if (!card || card.id !== id) return;
      $("#review-summary").textContent = page.count ? "★ " + page.average + " (" + page.count + ")" : "";
      var list = $("#review-list");
      list.textContent = "";
      page.items.forEach(function (review) { list.appendChild(item(review)); });
      if (!page.items.length) list.appendChild(ctx.el("li", ctx.t("no_reviews")));
    }).catch(ctx.fail);
  }
  function act(dialog, action, body) {
    if ($(dialog).returnValue === "ok" && pending) {
      ctx.api("POST", path("/" + encodeURIComponent(pending) + "/" + action), body).then(function () {
        ctx.flash(ctx.t("saved"));
        return load();
      }).catch(ctx.fail);
    }
    pending = null;
  }
  function show(shown, context) {
    ctx = context;
    card = shown;
    $("#reviews").hidden = !card;
    if (card) load();
  }
  $("#reply-dialog").addEventListener("close", function () {
    act("#reply-dialog", "reply", {text: $("#reply-form").elements.text.value});
    $("#reply-form").reset();
  });
  $("#hide-dialog").addEventListener("close", function () {
    act("#hide-dialog", "hide", {reason: $("#hide-form").elements.reason.value});
    $("#hide-form").reset();
  });
  return {show: show};
})();
