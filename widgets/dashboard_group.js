/* tapcard dashboard: a card's group buying (拼团, issue 16) in the card form (dashboard_group.html):
   on or off, the group's size, its price (major units, like the price), its window in minutes and
   whether the card sells to groups only. The API checks the setting; dashboard.js flashes its
   refusal and hands it to fieldError, which shows it beside the group field it names. */
var tapcardGroup = (function () {
  "use strict";
  // The API's field names (domain/groups.py) and the inputs whose error line shows them.
  var FIELDS = {"group": "group_on", "group.size": "group_size", "group.price": "group_price",
                "group.price.amount": "group_price", "group.window_minutes": "group_window", "group.only": "group_only"};
  function elements() { return document.getElementById("card-form").elements; }
  function errorLine(name) { return document.getElementById(elements()[name].getAttribute("aria-describedby")); }
  // The group's fields are used only while group buying is ticked.
  function sync() {
    var on = elements().group_on.checked;
    ["group_size", "group_price", "group_window", "group_only"].forEach(function (name) { elements()[name].disabled = !on; });
  }
  function clearErrors() {
    Object.keys(FIELDS).forEach(function (field) {
      elements()[FIELDS[field]].removeAttribute("aria-invalid");
      errorLine(FIELDS[field]).textContent = "";
    });
  }
  function showError(field, message) {
    elements()[FIELDS[field]].setAttribute("aria-invalid", "true");
    errorLine(FIELDS[field]).textContent = message;
  }
  function show(card, ctx) {
    var fields = elements(), group = card && card.group;
    fields.group_on.checked = !!group;
    fields.group_size.value = group ? group.size : "";
    fields.group_price.value = group ? group.price.amount / Math.pow(10, ctx.exponent(card.price.currency)) : "";
    fields.group_window.value = group ? group.window_minutes : "";
    fields.group_only.checked = !!(group && group.only);
    sync();
    clearErrors();
  }
  // An empty field is sent as null: the API says which one is required.
  function number(input, scale) {
    var text = input.value.trim();
    return text ? Math.round(Number(text) * scale) : null;
  }
  function wanted(form, exponent) {
    var fields = form.elements;
    if (!fields.group_on.checked) return null;
    return {size: number(fields.group_size, 1), price: {amount: number(fields.group_price, Math.pow(10, exponent))},
            window_minutes: number(fields.group_window, 1), only: fields.group_only.checked};
  }
  function same(a, b) {
    if (!a || !b) return !a && !b;
    return a.size === b.size && a.price.amount === b.price.amount && a.window_minutes === b.window_minutes && a.only === b.only;
  }
  // Only a change is sent (the setting is locked once the card has orders): the setting, or null to stop group buying.
  function payload(body, form, current, exponent) {
    clearErrors();
    var group = wanted(form, exponent);
    if (!same(group, current ? current.group : null)) body.group = group;
  }

  function fieldError(field, message) { if (FIELDS[field]) showError(field, message); }

  elements().group_on.addEventListener("change", sync);
  return {show: show, payload: payload, fieldError: fieldError};
})();
