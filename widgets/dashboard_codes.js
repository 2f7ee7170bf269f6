/* tapcard dashboard: the card's discount codes (dashboard_codes.html): the list with how often each
   was used, a form to add one, a delete button each; and the funnel's line about offers (code
   redemptions, revenue before discounts, the rating). dashboard.js calls tapcardCodes.show(card, ctx)
   when a card is shown (null: none) and .funnelLine(total, reviews, currency, ctx) with the stats. */
var tapcardCodes = (function () {
  "use strict";
  var ctx = null, card = null;
  function $(selector) { return document.querySelector(selector); }
  function path(rest) { return "/api/cards/" + encodeURIComponent(card.id) + "/codes" + (rest || ""); }
  function describe(code) {
    var off = code.percent_off ? code.percent_off + "%" : ctx.money(code.amount_off, card.price.currency);
    var uses = code.redeemed + (code.max_redemptions ? " / " + code.max_redemptions : "");
    return code.code + " · −" + off + " · " + ctx.t("redeemed") + " " + uses + " ";
  }
  function load() {
    var id = card.id;
    return ctx.api("GET", path()).then(function (page) {
      if (!card || card.id !== id) return;
      var list = $("#code-list");
      list.textContent = "";
      page.items.forEach(function (code) {
        var item = list.appendChild(ctx.el("li", describe(code), {"data-code": code.code}));
        var remove = item.appendChild(ctx.el("button", ctx.t("delete_code"), {type: "button", "class": "link"}));
        remove.addEventListener("click", function () {
          ctx.api("DELETE", path("/" + encodeURIComponent(code.code)), undefined, true).then(function () {
            ctx.flash(ctx.t("code_deleted"));
            return load();
          }).catch(ctx.fail);
        });
      });
      if (!page.items.length) list.appendChild(ctx.el("li", ctx.t("no_codes")));
    }).catch(ctx.fail);
  }
  function add(event) {
    event.preventDefault();
    var form = event.target, fields = form.elements, body = {code: fields.code.value.trim()};
    if (fields.percent_off.value) body.percent_off = Number(fields.percent_off.value);
    if (fields.amount_off.value) {
      body.amount_off = Math.round(Number(fields.amount_off.value) * Math.pow(10, ctx.exponent(card.price.currency)));
    }
    ["max_redemptions", "per_buyer"].forEach(function (name) { if (fields[name].value) body[name] = Number(fields[name].value); });
    ["starts_at", "ends_at"].forEach(function (name) {
      if (fields[name].value) body[name] = new Date(fields[name].value).toISOString();
    });
    ctx.api("POST", path(), body).then(function () {
      form.reset();
      ctx.flash(ctx.t("saved"));
      return load();
    }).catch(ctx.fail);
  }
  function show(shown, context) {
    ctx = context;
    card = shown;
    $("#codes").hidden = !card;
    if (card) load();
  }
  function funnelLine(total, reviews, currency, context) {
    var t = context.t, rating = reviews && reviews.count ? "★ " + reviews.average + " (" + reviews.count + ")" : "–";
    return t("code_redemptions") + ": " + total.code_redemptions + " · " + t("revenue_before_discounts") + ": " +
      context.money(total.revenue_before_discounts, currency) + " · " + t("rating") + ": " + rating;
  }
  $("#code-form").addEventListener("submit", add);
  return {show: show, funnelLine: funnelLine};
})();
