/* tapcard order page: after-sales requests. Opens a request (type, message, up to 3 photos: each
   uploaded straight to the photos bucket with the presigned POST the API gives) and writes in a
   request's thread, as JSON with fetch: the page's CSP takes no form submissions. Its words are the
   page's (data-* on #aftersales). Paths are relative, so the page works under any API stage path. */
(function () {
  "use strict";
  var box = document.querySelector("[data-requests-script]");
  if (!box) return;
  var orderId = box.getAttribute("data-order-id");
  var token = new URLSearchParams(location.search).get("token") || "";
  var status = document.getElementById("request-status");
  var maxPhotos = Number(box.getAttribute("data-max-photos"));
  var maxBytes = Number(box.getAttribute("data-max-photo-bytes"));
  var types = ["image/jpeg", "image/png", "image/webp"];

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }
  function route(path) {
    return new URL("../orders/" + encodeURIComponent(orderId) + path + "?token=" + encodeURIComponent(token), location.href).href;
  }
  // POST JSON; resolves with the answer, rejects with the contract's error ({code, message, field}).
  function post(path, body) {
    return fetch(route(path), {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw (data && data.error) || {message: box.getAttribute("data-error-generic")};
          return data;
        });
      });
  }
  function photoProblem(files) {
    if (files.length > maxPhotos) return box.getAttribute("data-error-photo-count");
    for (var i = 0; i < files.length; i++) {
      if (types.indexOf(files[i].type) < 0) return box.getAttribute("data-error-photo-type");
      if (files[i].size > maxBytes) return box.getAttribute("data-error-photo-size");
    }
    return null;
  }
  function upload(requestId, file) {
    return post("/requests/" + encodeURIComponent(requestId) + "/photos", {content_type: file.type, size: file.size})
      .then(function (form) {
        var data = new FormData();
        Object.keys(form.fields).forEach(function (name) { data.append(name, form.fields[name]); });
        data.append("file", file);
        return fetch(form.url, {method: "POST", body: data}).then(function (response) {
          if (!response.ok) throw {message: box.getAttribute("data-error-photo-size")};
        });
      });
  }
  function failed(error) {
    say((error.field ? error.field + ": " : "") + (error.message || box.getAttribute("data-error-generic")), true);
  }

  var form = document.getElementById("request-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var files = Array.prototype.slice.call(form.elements.photos.files || []);
      var problem = photoProblem(files);
      if (problem) { say(problem, true); return; }
      say(box.getAttribute("data-sending"));
      post("/requests", {type: form.elements.type.value, message: form.elements.message.value})
        .then(function (created) {
          return files.reduce(function (done, file) {
            return done.then(function () { return upload(created.request_id, file); });
          }, Promise.resolve());
        })
        .then(function () { location.reload(); }, failed);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.request-message"), function (reply) {
    reply.addEventListener("submit", function (event) {
      event.preventDefault();
      say(box.getAttribute("data-sending"));
      post("/requests/" + encodeURIComponent(reply.getAttribute("data-request-id")) + "/messages",
           {text: reply.elements.text.value})
        .then(function () { location.reload(); }, failed);
    });
  });
})();
