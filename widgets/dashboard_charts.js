/* tapcard dashboard: its two charts, the funnel and the paid orders per day, drawn as SVG into the
   page's own <svg> elements. Inlined before dashboard.js (in the same nonced script), which calls
   tapcardCharts.funnel and tapcardCharts.sales. */
var tapcardCharts = (function () {
  "use strict";
  function svg(tag, attrs, text) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function funnel(chart, total, t) {
    chart.textContent = "";
    var steps = ["views", "taps", "holds", "paid"];
    var top = Math.max(1, total.views, total.taps);
    steps.forEach(function (step, i) {
      var width = Math.max(1, 200 * total[step] / top);
      chart.appendChild(svg("rect", {"class": "bar", x: 70, y: i * 32 + 4, width: width, height: 22, rx: 3}));
      chart.appendChild(svg("text", {x: 0, y: i * 32 + 19}, t(step)));
      var rate = i ? total.conversion[steps[i - 1] + "_to_" + step] : null;
      var label = total[step] + (rate === null || rate === undefined ? "" : "  (" + Math.round(rate * 100) + "%)");
      chart.appendChild(svg("text", {x: 74 + width, y: i * 32 + 19, "data-step": step}, label));
    });
  }
  function sales(chart, days) {
    chart.textContent = "";
    var top = Math.max(1, Math.max.apply(null, days.map(function (d) { return d.paid; })));
    var width = 320 / days.length;
    days.forEach(function (day, i) {
      var height = 80 * day.paid / top;
      var bar = svg("rect", {"class": "bar", x: i * width + 1, y: 84 - height, width: Math.max(1, width - 2), height: height});
      bar.appendChild(svg("title", {}, day.day + ": " + day.paid));
      chart.appendChild(bar);
    });
    chart.appendChild(svg("text", {x: 0, y: 96}, days[0].day));
    chart.appendChild(svg("text", {x: 320, y: 96, "text-anchor": "end"}, days[days.length - 1].day));
  }
  // The funnel totals' group buying part: " · Groups: started / completed / failed / units" (none without groups).
  function groupTotals(total, t) {
    if (!total.groups_started) return "";
    return " · " + t("groups") + ": " + [total.groups_started, total.groups_completed, total.groups_failed, total.group_units].join(" / ");
  }

  return {funnel: funnel, sales: sales, groupTotals: groupTotals};
})();
