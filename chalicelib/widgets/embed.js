/* tapcard embed loader: frames each [data-tapcard] element when it nears the viewport. */
(function (d, w) {
  "use strict";
  var me = d.currentScript;
  if (!me) return;
  var base = me.src.replace(/\/embed\.js(\?.*)?$/, ""), origin = new URL(base).origin;
  var ref = (location.search.match(/[?&]ref=([\w-]{1,32})/) || [])[1];

  function frame(el) {
    if (el.getAttribute("data-tapcard-framed")) return;
    el.setAttribute("data-tapcard-framed", "1");
    var id = el.getAttribute("data-tapcard"), q = ["o=" + encodeURIComponent(location.origin)], f = d.createElement("iframe");
    ["locale", "theme", "accent"].forEach(function (k) {
      var v = el.getAttribute("data-" + k);
      if (v) q.push(k + "=" + encodeURIComponent(v));
    });
    if (ref) q.push("ref=" + ref);
    f.src = base + "/cards/" + encodeURIComponent(id) + "/widget?" + q.join("&");
    f.title = "Buy on tapcard: " + (el.textContent.trim() || id);
    f.setAttribute("allow", "payment; clipboard-write");
    f.style.cssText = "display:block;width:100%;max-width:420px;height:" + (el.getAttribute("data-height") || 460) + "px;border:0";
    el.textContent = "";
    el.appendChild(f);
  }

  w.addEventListener("message", function (e) {
    var m = e.data;
    if (e.origin !== origin || !m || m.type !== "tapcard:resize") return;
    d.querySelectorAll("[data-tapcard] iframe").forEach(function (f) {
      if (f.contentWindow !== e.source) return;
      f.style.height = Math.min(2000, +m.height || 0) + "px";
      f.parentNode.style.minHeight = "";
    });
  });

  var els = d.querySelectorAll("[data-tapcard]");
  if (!("IntersectionObserver" in w)) return els.forEach(frame);
  var io = new IntersectionObserver(function (entries) {
    entries.forEach(function (en) {
      if (en.isIntersecting) { io.unobserve(en.target); frame(en.target); }
    });
  }, { rootMargin: "300px" });
  els.forEach(function (el) {
    el.style.minHeight = (el.getAttribute("data-height") || 460) + "px";
    io.observe(el);
  });
})(document, window);
