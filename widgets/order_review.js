/* tapcard order page: the buyer's review form (order_review.html). Posts {rating, text, name} as JSON
   to the form's data-action (POST /orders/{order_id}/review?token=, same origin) and says how it went
   in the form's own words (its data-* attributes, in the page's language). */
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var status = document.getElementById("review-status");
  if (!form) return;
  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var rating = form.querySelector("input[name=rating]:checked");
    if (!rating) return say(form.dataset.pickRating, true);
    var body = {rating: Number(rating.value), text: form.elements.text.value};
    if (form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
    var button = form.querySelector("button");
    button.disabled = true;
    say(form.dataset.sending);
    fetch(form.dataset.action, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.status === 201) {
            form.hidden = true;
            return say(form.dataset.thanks);
          }
          var error = (data && data.error) || {};
          if (error.code === "already_reviewed") {  // reviewed meanwhile (another tab)
            form.hidden = true;
            return say(form.dataset.done);
          }
          button.disabled = false;
          say(form.dataset.failed, true);
        });
      })
      .catch(function () { button.disabled = false; say(form.dataset.failed, true); });
  });
})();
