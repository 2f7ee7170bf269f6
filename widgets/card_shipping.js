/* The shipping address, on cards that ship goods (loaded before card.js, which calls it): checked
   here in the reader's words, then stored with PUT /orders/{id}/shipping before the pay call. The
   TEST MODE sheet has a plain form; with Stripe.js, Stripe's Address Element (shipping mode). */
window.tapcardShipping = (function () {
  "use strict";
  var S = JSON.parse(document.getElementById("tc-settings").textContent);
  var form = document.querySelector('[data-tc="address"]'), addressElement = null;
  var FIELDS = ["name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email"];
  var EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/, PHONE = /^\+?[0-9][0-9 ().\-]{3,29}$/, POSTAL = /^[A-Za-z0-9][A-Za-z0-9 \-]{0,19}$/;

  function sw(key) { return S.words[key] || key; }
  function input(name) { return form.elements[name]; }

  function mark(name, text) {
    var box = input(name), note = form.querySelector('[data-error="' + name + '"]');
    if (box) { if (text) box.setAttribute("aria-invalid", "true"); else box.removeAttribute("aria-invalid"); }
    if (note) note.textContent = text || "";
    return box;
  }

  function postcodeRequired(country) { return S.no_postcode.indexOf(country) < 0; }

  // A country without postcodes (Hong Kong...) makes the postal code optional.
  if (input("country") && input("postal_code")) {
    var syncPostcode = function () { input("postal_code").required = postcodeRequired(input("country").value); };
    input("country").addEventListener("change", syncPostcode);
    syncPostcode();
  }

  function fromForm() {
    var address = {};
    FIELDS.forEach(function (name) {
      var box = input(name), value = box ? box.value.trim() : "";
      if (value) address[name] = value;
    });
    return address;
  }

  function fromStripe() {
    return addressElement.getValue().then(function (result) {
      if (!result.complete) return null;
      var value = result.value, a = value.address, address = {
        name: value.name, line1: a.line1, line2: a.line2, city: a.city, region: a.state,
        postal_code: a.postal_code, country: a.country, phone: value.phone, email: input("email").value.trim()
      };
      Object.keys(address).forEach(function (name) { if (!address[name]) delete address[name]; });
      return address;
    });
  }

  // The first field that is wrong, marked with why; null when the address looks right.
  function problem(address) {
    var required = ["name", "line1", "city", "country"].concat(postcodeRequired(address.country) ? ["postal_code"] : []);
    var checks = [
      [addressElement ? [] : required.filter(function (name) { return !address[name]; }), "required"],
      [address.postal_code && !POSTAL.test(address.postal_code) ? ["postal_code"] : [], "invalid"],
      [address.phone && !PHONE.test(address.phone) ? ["phone"] : [], "invalid"],
      [!address.email ? ["email"] : !EMAIL.test(address.email) ? ["email"] : [], address.email ? "invalid" : "required"]
    ];
    for (var i = 0; i < checks.length; i++) {
      if (checks[i][0].length) { checks[i][0].forEach(function (name) { mark(name, sw(checks[i][1])); }); return checks[i][0][0]; }
    }
    return null;
  }

  return {
    // Production: Stripe's Address Element next to the Payment Element, limited to the card's countries.
    mountStripe: function (elements) {
      addressElement = elements.create("address", { mode: "shipping", allowedCountries: S.shipping_countries, fields: { phone: "auto" } });
      addressElement.mount(document.querySelector('[data-tc="address-element"]'));
    },
    // Resolves with null once the address is stored, else with the words to show the reader.
    save: function (order, token, say) {
      FIELDS.forEach(function (name) { mark(name, ""); });
      return (addressElement ? fromStripe() : Promise.resolve(fromForm())).then(function (address) {
        if (!address) return sw("check_address");
        var wrong = problem(address);
        if (wrong) { if (input(wrong)) input(wrong).focus(); return sw("check_address"); }
        say(sw("saving"));
        return fetch("/orders/" + order.order_id + "/shipping?token=" + encodeURIComponent(token), {
          method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(address)
        }).then(function (r) {
          if (r.ok) return null;
          return r.json().catch(function () { return {}; }).then(function (data) {
            var error = data.error || {}, words = sw("error_" + error.code);
            // The order moved on (its hold ended): the pay call then says so in its own words.
            if (error.code === "conflict") return null;
            var box = error.field && mark(error.field, sw(error.field === "country" ? "not_shipped" : "invalid"));
            if (box && box.focus) box.focus();
            return words !== "error_" + error.code ? words : sw("check_address");
          });
        });
      });
    }
  };
})();
