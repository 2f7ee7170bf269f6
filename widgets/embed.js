/* tapcard embed loader: frames each card and shop when it nears the viewport. */
(function (d, w) {
  "use strict";
  var me = d.currentScript, u = encodeURIComponent;
  if (!me) return;
  var base = me.src.replace(/\/embed\.js(\?.*)?$/, ""), origin = new URL(base).origin;
  var pass = [];  // the post URL's referral (?ref=) and discount code (?code=) go to each card
  location.search.replace(/[?&](ref|code)=([\w-]{1,32})/g, function (m, k, v) { pass.push(k + "=" + v); });
  // What each data-* option may look like; anything else falls back to the default.
  var valid = {
    locale: /^[a-z]{2,3}(-[a-z0-9]{2,8}){0,2}$/i,
    theme: /^(light|dark|auto)$/,
    accent: /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i
  };

  function frame(el) {
    if (el.getAttribute("data-tapcard-framed")) return;
    el.setAttribute("data-tapcard-framed", "1");
    var s = el.getAttribute("data-tapcard-shop"), id = s || el.getAttribute("data-tapcard"),
      q = ["o=" + u(location.origin)].concat(pass), f = d.createElement("iframe");
    Object.keys(valid).forEach(function (k) {
      var v = el.getAttribute("data-" + k);
      if (v === null) return;
      if (valid[k].test(v)) q.push(k + "=" + u(v));
      else console.warn("[tapcard] ignoring data-" + k + '="' + v + '" on ' + id + ", using the default");
    });
    f.src = base + (s ? "/s/" + u(id) + "/frame?" : "/cards/" + u(id) + "/widget?") + q.join("&");
    f.title = "Buy on tapcard: " + (el.textContent.trim() || id);
    f.setAttribute("allow", "payment; clipboard-write; web-share");
    f.style.cssText = "display:block;width:100%;" + (s ? "" : "max-width:420px;") + "height:" + height(el) + "px;border:0";
    // The blogger's link stays hidden, for when the card is unavailable.
    [].forEach.call(el.children, function (c) { c.hidden = true; });
    el.appendChild(f);
  }

  function height(el) { return Math.min(2000, +el.getAttribute("data-height") || 460); }

  w.addEventListener("message", function (e) {
    var m = e.data;
    if (e.origin !== origin || !m || !/^tapcard:(resize|unavailable)$/.test(m.type)) return;
    d.querySelectorAll("iframe").forEach(function (f) {
      if (f.contentWindow !== e.source) return;
      var el = f.parentNode;
      f.style.height = Math.min(2000, +m.height || 0) + "px";
      el.style.minHeight = "";
      if (m.type === "tapcard:unavailable") [].forEach.call(el.children, function (c) { if (c !== f) c.hidden = false; });
    });
  });

  var els = d.querySelectorAll("[data-tapcard],[data-tapcard-shop]");
  if (!("IntersectionObserver" in w)) return els.forEach(frame);
  var io = new IntersectionObserver(function (entries) {
    entries.forEach(function (en) {
      if (en.isIntersecting) { io.unobserve(en.target); frame(en.target); }
    });
  }, { rootMargin: "300px" });
  els.forEach(function (el) {
    el.style.minHeight = height(el) + "px";
    io.observe(el);
  });
})(document, window);
