// A stand-in for Stripe.js v3, served at https://js.stripe.com/v3/ by the browser tests: it records
// how the card calls it. Deferred mode: elements({mode, amount, currency}), elements.submit() (fails
// with __stripe.submitError when set), createConfirmationToken (a new ctoken_ each time, or
// __stripe.tokenError), handleNextAction (fails with __stripe.actionError when set). The Address
// Element's getValue() answers __stripe.address ({name, phone, address: {...}}; null: incomplete).
(function () {
  var record = window.__stripe = { calls: [], express: null, group: null, submitError: null, tokenError: null, actionError: null,
    address: null };
  var tokens = 0;

  function later(answer) { return new Promise(function (ok) { setTimeout(function () { ok(answer); }, 30); }); }

  function element(type) {
    var handlers = {}, el = {
      on: function (name, handler) { handlers[name] = handler; return el; },
      mount: function (target) {
        record.calls.push({ call: "mount", type: type, into: target.getAttribute("data-tc") });
        target.textContent = "[" + type + "]";
        var methods = type === "expressCheckout" ? { googlePay: true, link: true } : undefined;
        setTimeout(function () { if (handlers.ready) handlers.ready({ elementType: type, availablePaymentMethods: methods }); }, 0);
      },
      fire: function (name, event) { handlers[name](event); },
      getValue: function () {
        record.calls.push({ call: "getValue", type: type });
        return later({ complete: !!record.address, value: record.address || {} });
      }
    };
    if (type === "expressCheckout") record.express = el;
    return el;
  }

  window.Stripe = function (publishableKey) {
    record.calls.push({ call: "Stripe", key: publishableKey });
    return {
      elements: function (options) {
        record.calls.push({ call: "elements", mode: options.mode, amount: options.amount, currency: options.currency,
          clientSecret: options.clientSecret || null });
        record.group = {
          create: function (type, options) {
            record.calls.push({ call: "create", type: type, options: options || null });
            return element(type);
          },
          submit: function () {
            record.calls.push({ call: "submit" });
            return later(record.submitError ? { error: { type: "validation_error", message: record.submitError } } : {});
          }
        };
        return record.group;
      },
      createConfirmationToken: function (options) {
        var id = "ctoken_stand_in_" + (++tokens);
        record.calls.push({ call: "createConfirmationToken", withElements: options.elements === record.group,
          returnUrl: options.params && options.params.return_url, id: record.tokenError ? null : id });
        return later(record.tokenError ? { error: record.tokenError } : { confirmationToken: { id: id } });
      },
      handleNextAction: function (options) {
        record.calls.push({ call: "handleNextAction", clientSecret: options.clientSecret });
        return later(record.actionError ? { error: { type: "card_error", message: record.actionError } }
          : { paymentIntent: { id: options.clientSecret.split("_secret_")[0], status: "processing" } });
      }
    };
  };
})();
