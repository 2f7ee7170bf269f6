"""The dashboard's After-sales tab (issue 15): a buyer's return shows with its thread and photo; the
blogger approves it with instructions and then refunds it; the list follows the language button."""
import requests
from playwright.sync_api import expect

from cardpage import ARTIFACTS, AXE, signed_in_dashboard
from test_order_requests import CLOSE, PNG, shipped_order


def tab_violations(page) -> list[str]:
    """WCAG 2 A/AA violations axe-core finds in the After-sales tab (the rest of the dashboard is
    other tests' to check)."""
    page.evaluate(AXE.read_text())
    return page.evaluate("""() => axe.run({include: [["#aftersales"]]}, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"]}})
        .then(r => r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", ")))""")


def test_a_return_is_approved_then_refunded_from_the_after_sales_tab(context, live_stack):
    base = live_stack["api_url"]

    def create_card(**fields):
        body = {"title": "Returned bowl", "description": "A bowl.", "image_url": f"{live_stack['blog_url']}/mug.svg",
                "price": {"amount": 1200, "currency": "EUR"}, "stock": 5, **fields}
        return requests.post(f"{base}/api/cards", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {live_stack['seller_api_key']}", **CLOSE}).json()

    order = shipped_order(live_stack, create_card, "buyer_dashboard_rq")
    token = {"token": order["order_token"]}
    request_id = requests.post(f"{base}/orders/{order['order_id']}/requests", params=token, timeout=30, headers=CLOSE,
                               json={"type": "return", "message": "Too small for soup."}).json()["request_id"]
    form = requests.post(f"{base}/orders/{order['order_id']}/requests/{request_id}/photos", params=token, timeout=30,
                         headers=CLOSE, json={"content_type": "image/png", "size": len(PNG)}).json()
    assert requests.post(form["url"], data=form["fields"], files={"file": ("b.png", PNG, "image/png")}, timeout=30).ok

    dashboard = signed_in_dashboard(context, live_stack)
    item = dashboard.locator(f"#aftersales article[data-request-id={request_id}]")
    expect(item).to_contain_text("Return · Open")
    expect(item).to_contain_text("Buyer: Too small for soup.")
    expect(item.locator("img")).to_have_attribute("alt", "Photo 1")
    assert tab_violations(dashboard) == []

    approve = item.locator("form[data-action=approve]")
    approve.get_by_label("Return instructions").fill("Post it to 1 quai de la Fosse, Nantes.")
    approve.get_by_role("button", name="Approve").click()
    expect(item).to_contain_text("Return · Approved")
    expect(item).to_contain_text("Return instructions: Post it to 1 quai de la Fosse, Nantes.")
    item.locator("form[data-action=refund]").get_by_role("button", name="Refund the order").click()
    expect(item).to_contain_text("Return · Refunded")
    status = requests.get(f"{base}/orders/{order['order_id']}", params=token, timeout=30, headers=CLOSE).json()["status"]
    assert status == "refunded"

    dashboard.click("#lang")
    expect(item).to_contain_text("退货 · 已退款")
    assert tab_violations(dashboard) == []
    dashboard.screenshot(path=str(ARTIFACTS / "dashboard-aftersales.png"), full_page=True)
    assert context.console_errors == []
