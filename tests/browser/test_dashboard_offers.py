"""Issue 17 in Chromium, the blogger's side: the card form's special price, the codes panel (add,
see uses, delete), the reviews panel (reply, hide with a reason), the funnel's offers line and the
shops panel (make a shop of two cards in the blogger's order); English then Chinese, axe-core clean
on the panels, no CSP violation."""
import re

import requests
from playwright.sync_api import expect

from cardpage import ARTIFACTS, AXE, signed_in_dashboard
from test_order_review_form import paid_order

CLOSE = {"Connection": "close"}
SLOW = 20_000  # the local stack on a busy 2-core machine answers the panels' calls in seconds
PANELS = ["#card-form", "#codes", "#reviews", "#shops", "#insights"]


def panel_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())
    return page.evaluate("""(panels) => axe.run({include: panels.map(p => [p])},
        {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"]}})
        .then(r => r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", ")))""", PANELS)


def seller_get(live_stack, path: str) -> dict:
    return requests.get(live_stack["api_url"] + path, timeout=10,
                        headers={"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}).json()


def test_a_blogger_edits_offers_reviews_and_a_shop_from_the_dashboard(context, live_stack, create_card):
    other = create_card(title="Dashboard bowl")
    card = create_card(title="Dashboard cup", compare_at={"amount": 1500})
    order = paid_order(live_stack, card["id"], "buyer-dash-0001")
    requests.post(f"{live_stack['api_url']}/orders/{order['order_id']}/review?token={order['order_token']}",
                  json={"rating": 4, "text": "Nice <b>cup</b>", "name": "Ada"}, headers=CLOSE,
                  timeout=10).raise_for_status()
    dashboard = signed_in_dashboard(context, live_stack)
    dashboard.click(f"#cards button[data-card-id={card['id']}]")
    expect(dashboard.locator("#editor-title")).to_contain_text("Dashboard cup", timeout=SLOW)

    # The special price: shown in major units, changed, saved.
    compare_at = dashboard.locator("#card-form [name=compare_at]")
    expect(compare_at).to_have_value("15", timeout=SLOW)
    compare_at.fill("16")
    dashboard.click("#save")
    expect(dashboard.locator("#flash")).to_have_text("Saved", timeout=SLOW)
    assert seller_get(live_stack, f"/api/cards/{card['id']}")["compare_at"]["amount"] == 1600

    # A code: added, listed with its uses, deleted.
    dashboard.click("#code-details summary")
    codes = dashboard.locator("#code-form")
    codes.locator("[name=code]").fill("summer5")
    codes.locator("[name=percent_off]").fill("5")
    codes.locator("[name=max_redemptions]").fill("10")
    codes.locator("button[type=submit]").click()
    expect(dashboard.locator("#code-list [data-code=SUMMER5]")).to_contain_text("SUMMER5 · −5% · used 0 / 10",
                                                                             timeout=SLOW)
    dashboard.locator("#code-list [data-code=SUMMER5] button").click()
    expect(dashboard.locator("#code-list")).to_have_text("No codes yet.", timeout=SLOW)

    # The review: the buyer's text as text, a reply, then hidden with a reason.
    dashboard.click("#review-details summary")
    review = dashboard.locator(f"#review-list [data-order-id={order['order_id']}]")
    expect(review).to_contain_text("Nice <b>cup</b>", timeout=SLOW)
    expect(dashboard.locator("#offer-totals")).to_contain_text("Rating: ★ 4 (1)", timeout=SLOW)
    review.locator("[data-action=reply]").click()
    dashboard.fill("#reply-form [name=text]", "Thank you, Ada!")
    dashboard.click("#reply-form button[value=ok]")
    expect(review).to_contain_text("Your reply: Thank you, Ada!", timeout=SLOW)
    review.locator("[data-action=hide]").click()
    dashboard.fill("#hide-form [name=reason]", "Names a competitor")
    dashboard.click("#hide-form button[value=ok]")
    expect(review.locator("[data-hidden]")).to_have_text("Hidden: Names a competitor", timeout=SLOW)
    expect(review.locator("[data-action=hide]")).to_have_count(0, timeout=SLOW)
    expect(dashboard.locator("#offer-totals")).to_contain_text("Rating: –", timeout=SLOW)

    # A shop of both cards, the bowl first.
    dashboard.click("#shop-details summary")
    shop = dashboard.locator("#shop-form")
    shop.locator("[name=name]").fill("My picks")
    dashboard.select_option("#shop-add-card", card["id"])
    dashboard.click("#shop-add")
    dashboard.select_option("#shop-add-card", other["id"])
    dashboard.click("#shop-add")
    dashboard.get_by_role("button", name="Move up: Dashboard bowl").click()
    expect(dashboard.locator("#shop-cards li")).to_have_count(2, timeout=SLOW)
    expect(dashboard.locator("#shop-cards li").first).to_contain_text("Dashboard bowl", timeout=SLOW)
    shop.locator("button[type=submit]").click()
    expect(dashboard.locator("#flash")).to_have_text("Shop saved", timeout=SLOW)
    expect(dashboard.locator("#shop-snippet")).to_have_value(re.compile(r'data-tapcard-shop="shop_'), timeout=SLOW)
    [made] = [s for s in seller_get(live_stack, "/api/shops")["items"] if s["name"] == "My picks"]
    assert made["card_ids"] == [other["id"], card["id"]]
    assert panel_violations(dashboard) == []
    ARTIFACTS.mkdir(exist_ok=True)
    dashboard.screenshot(path=str(ARTIFACTS / "dashboard-offers.png"), full_page=True)

    dashboard.click("#lang")
    expect(dashboard.locator("#codes h2")).to_have_text("优惠码", timeout=SLOW)
    expect(dashboard.locator("#reviews h2")).to_have_text("评价", timeout=SLOW)
    expect(dashboard.locator("#shops h2")).to_have_text("您的小店", timeout=SLOW)
    expect(dashboard.locator("#offer-totals")).to_contain_text("优惠码使用", timeout=SLOW)
    assert panel_violations(dashboard) == []
    dashboard.screenshot(path=str(ARTIFACTS / "dashboard-offers-zh.png"), full_page=True)
    assert context.console_errors == []
