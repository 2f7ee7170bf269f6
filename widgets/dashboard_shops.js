/* tapcard dashboard: the seller's shops (dashboard_shops.html): the list, and a form that makes a
   shop or edits one: its name and its cards, added from the seller's cards and put in order (up,
   down, remove). dashboard.js calls tapcardShops.show(card, ctx) whenever a card (or none) is shown;
   the panel belongs to the seller, so it shows either way and keeps a shop being edited. */
var tapcardShops = (function () {
  "use strict";
  var ctx = null, shops = [], cards = [], editing = null, chosen = [];
  function $(selector) { return document.querySelector(selector); }
  function titleOf(id) {
    var card = cards.filter(function (c) { return c.id === id; })[0];
    return card ? card.title : id;
  }
  function load() {
    return Promise.all([ctx.api("GET", "/api/shops"), ctx.api("GET", "/api/cards?limit=100")]).then(function (found) {
      shops = found[0].items;
      cards = found[1].items.filter(function (card) { return card.status !== "archived"; });
      render();
    }).catch(ctx.fail);
  }
  function control(label, onClick, title) {
    var node = ctx.el("button", ctx.t(label), {type: "button", "class": "link", "aria-label": ctx.t(label) + ": " + title});
    node.addEventListener("click", onClick);
    return node;
  }
  function move(index, by) {
    var to = index + by;
    if (to < 0 || to >= chosen.length) return;
    chosen.splice(to, 0, chosen.splice(index, 1)[0]);
    render();
  }
  function render() {
    var list = $("#shop-list");
    list.textContent = "";
    shops.forEach(function (shop) {
      var item = list.appendChild(ctx.el("li", shop.name + " · " + shop.card_ids.length + " ", {"data-shop-id": shop.id}));
      item.appendChild(control("edit_shop", function () { edit(shop); }, shop.name));
      item.appendChild(ctx.el("a", ctx.t("open_shop"), {href: shop.url, target: "_blank", rel: "noopener"}));
    });
    if (!shops.length) list.appendChild(ctx.el("li", ctx.t("no_shops")));
    $("#shop-form-title").textContent = editing ? ctx.t("edit_shop") + ": " + editing.name : ctx.t("new_shop");
    var ordered = $("#shop-cards");
    ordered.textContent = "";
    chosen.forEach(function (id, index) {
      var title = titleOf(id), item = ordered.appendChild(ctx.el("li", title + " ", {"data-card-id": id}));
      item.appendChild(control("move_up", function () { move(index, -1); }, title));
      item.appendChild(control("move_down", function () { move(index, 1); }, title));
      item.appendChild(control("remove", function () { chosen.splice(index, 1); render(); }, title));
    });
    var select = $("#shop-add-card");
    select.textContent = "";
    cards.filter(function (card) { return chosen.indexOf(card.id) < 0; }).forEach(function (card) {
      select.appendChild(ctx.el("option", card.title, {value: card.id}));
    });
    $("#shop-add").disabled = !select.options.length;
    $("#shop-snippet-box").hidden = !editing;
    $("#shop-snippet").value = editing ? editing.snippet : "";
  }
  function edit(shop) {
    editing = shop;
    chosen = shop.card_ids.slice();
    $("#shop-form").elements.name.value = shop.name;
    render();
  }
  function startNew() {
    editing = null;
    chosen = [];
    $("#shop-form").reset();
    render();
  }
  function save(event) {
    event.preventDefault();
    var body = {name: event.target.elements.name.value, card_ids: chosen};
    var request = editing ? ctx.api("PATCH", "/api/shops/" + encodeURIComponent(editing.id), body) : ctx.api("POST", "/api/shops", body);
    request.then(function (shop) {
      ctx.flash(ctx.t("shop_saved"));
      editing = shop;
      return load();
    }).catch(ctx.fail);
  }
  function show(card, context) {
    ctx = context;
    $("#shops").hidden = false;
    load();
  }
  $("#shop-add").addEventListener("click", function () {
    if ($("#shop-add-card").value) chosen.push($("#shop-add-card").value);
    render();
  });
  $("#shop-new").addEventListener("click", startNew);
  $("#shop-form").addEventListener("submit", save);
  return {show: show};
})();
