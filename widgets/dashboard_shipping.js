/* tapcard dashboard: a card's shipping in the card form, and the packing list of its paid orders
   not yet shipped (who, where, how many). Inlined between dashboard_charts.js and dashboard.js,
   which calls tapcardShipping.fill, .value, .same and .packingList. */
var tapcardShipping = (function () {
  "use strict";
  function codes(text) {
    return text.split(/[\s,]+/).filter(Boolean).map(function (code) { return code.toUpperCase(); });
  }
  // The form's fields from the card (price exponent: the fee is entered in major units, like the price).
  function fill(form, card, exponent) {
    var shipping = card.shipping || {required: false, countries: [], fee: {amount: 0}};
    form.elements.ships.checked = shipping.required;
    form.elements.ship_countries.value = shipping.countries.join(", ");
    form.elements.ship_fee.value = shipping.required ? shipping.fee.amount / Math.pow(10, exponent) : "";
  }
  function value(form, exponent) {
    if (!form.elements.ships.checked) return {required: false};
    return {required: true, countries: codes(form.elements.ship_countries.value),
            fee: {amount: Math.round(Number(form.elements.ship_fee.value || 0) * Math.pow(10, exponent))}};
  }
  // Whether the form says what the card has already (shipping is locked once the card has orders).
  function same(wanted, shipping) {
    if (!wanted.required || !shipping.required) return wanted.required === shipping.required;
    return wanted.fee.amount === shipping.fee.amount && wanted.countries.join() === shipping.countries.join();
  }
  function addressLines(address) {
    return [address.line1, address.line2, [address.postal_code, address.city].filter(Boolean).join(" "),
            address.region, address.country, address.phone].filter(Boolean);
  }
  // Every paid order not yet shipped, page after page, as rows: name, address, quantity.
  function packingList(tbody, cardPath, api, t) {
    var rows = [];
    function page(cursor) {
      return api("GET", cardPath + "/orders?status=paid&limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""))
        .then(function (found) {
          rows = rows.concat(found.items.filter(function (order) { return !order.fulfilment; }));
          return found.next_cursor ? page(found.next_cursor) : rows;
        });
    }
    return page(null).then(function (orders) {
      tbody.textContent = "";
      orders.forEach(function (order) {
        var row = document.createElement("tr"), address = order.shipping;
        row.setAttribute("data-order-id", order.order_id);
        [address ? address.name : t("no_address"), address ? addressLines(address).join("\n") : "", order.quantity]
          .forEach(function (text) { row.appendChild(document.createElement("td")).textContent = String(text); });
        tbody.appendChild(row);
      });
      if (!orders.length) tbody.appendChild(document.createElement("tr")).appendChild(document.createElement("td")).textContent = t("nothing_to_pack");
    });
  }
  return {fill: fill, value: value, same: same, packingList: packingList};
})();
