/* tapcard dashboard: a card's compare-at price (shown struck through on the card) in the card form
   (dashboard_compare_at.html). dashboard.js calls tapcardCompareAt.show(card, ctx) when a card is
   shown (null: a new card) and .payload(body, form, current, exponent) when it is saved. */
var tapcardCompareAt = (function () {
  "use strict";
  function show(card, ctx) {
    var input = document.querySelector("#card-form [name=compare_at]");
    input.value = card && card.compare_at ? card.compare_at.amount / Math.pow(10, ctx.exponent(card.price.currency)) : "";
  }
  // Only a change is sent: an amount sets the special price, null (an empty field) removes it.
  function payload(body, form, current, exponent) {
    var text = form.elements.compare_at.value.trim();
    var amount = text ? Math.round(Number(text) * Math.pow(10, exponent)) : null;
    var before = current && current.compare_at ? current.compare_at.amount : null;
    if (amount !== before) body.compare_at = amount === null ? null : {amount: amount};
  }
  return {show: show, payload: payload};
})();
