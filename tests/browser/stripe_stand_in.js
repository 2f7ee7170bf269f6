// A stand-in for Stripe.js v3, served at https://js.stripe.com/v3/ by the browser tests: it records
// how the card calls it and answers confirmPayment with the outcome the test sets in __stripe.outcome.
(function () {
  var record = window.__stripe = { calls: [], outcome: "succeeded", express: null, group: null };
  var outcomes = {
    succeeded: { paymentIntent: { id: "pi_stand_in", status: "succeeded" } },
    declined: { error: { type: "card_error", code: "card_declined", message: "Your card was declined." } },
    requires_action: { paymentIntent: { id: "pi_stand_in", status: "requires_action" } },
    network_error: { error: { type: "api_connection_error", message: "Failed to fetch" } }
  };

  function element(type) {
    var handlers = {}, el = {
      on: function (name, handler) { handlers[name] = handler; return el; },
      mount: function (target) {
        record.calls.push({ call: "mount", type: type, into: target.getAttribute("data-tc") });
        target.textContent = "[" + type + "]";
        var methods = type === "expressCheckout" ? { googlePay: true, link: true } : undefined;
        setTimeout(function () { if (handlers.ready) handlers.ready({ elementType: type, availablePaymentMethods: methods }); }, 0);
      },
      fire: function (name, event) { handlers[name](event); }
    };
    if (type === "expressCheckout") record.express = el;
    return el;
  }

  window.Stripe = function (publishableKey) {
    record.calls.push({ call: "Stripe", key: publishableKey });
    return {
      elements: function (options) {
        record.calls.push({ call: "elements", clientSecret: options.clientSecret });
        record.group = { create: function (type) { record.calls.push({ call: "create", type: type }); return element(type); } };
        return record.group;
      },
      confirmPayment: function (options) {
        record.calls.push({ call: "confirmPayment", withElements: options.elements === record.group,
          redirect: options.redirect, returnUrl: options.confirmParams && options.confirmParams.return_url });
        var answer = outcomes[record.outcome];
        return new Promise(function (ok) { setTimeout(function () { ok(answer); }, 30); });
      },
      handleNextAction: function (options) {
        record.calls.push({ call: "handleNextAction", clientSecret: options.clientSecret });
        return Promise.resolve(outcomes.succeeded);
      }
    };
  };
})();
