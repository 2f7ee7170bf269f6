"""A blogger sells goods that ship (issue 15): shipping set in the dashboard's card form, then the
packing list of the card's paid orders (name, address, quantity)."""
import requests
from playwright.sync_api import expect

from cardpage import ARTIFACTS, signed_in_dashboard


def paid_with_address(live_stack, card_id: str, buyer: str, quantity: int, address: dict, email: str) -> None:
    api = live_stack["api_url"]
    order = requests.post(f"{api}/cards/{card_id}/checkout", timeout=10, headers={"Idempotency-Key": f"key-{buyer}"},
                          json={"quantity": quantity, "buyer": buyer, "shipping": address, "email": email}).json()
    paid = requests.post(f"{api}/orders/{order['order_id']}/pay?token={order['order_token']}", timeout=30,
                         json={"payment_method": "pm_card_visa"}).json()
    assert paid["status"] == "succeeded", paid


def test_shipping_is_set_in_the_card_form_and_paid_orders_make_the_packing_list(context, live_stack):
    dashboard = signed_in_dashboard(context, live_stack)
    dashboard.click("#new-card")
    form = dashboard.locator("#card-form")
    form.locator("[name=title]").fill("Packed Mug")
    form.locator("[name=image_url]").fill(live_stack["blog_url"] + "mug.svg")
    form.locator("[name=price]").fill("12.50")
    form.locator("[name=stock]").fill("5")
    form.locator("[name=ships]").check()
    form.locator("[name=ship_countries]").fill("fr, hk")
    form.locator("[name=ship_fee]").fill("4.50")
    dashboard.click("#save")
    expect(dashboard.locator("#editor-title")).to_contain_text("Packed Mug")
    expect(dashboard.locator("#packing")).to_be_visible()
    expect(dashboard.locator("#packing-rows")).to_have_text("Nothing to pack.")
    card_id = dashboard.locator("#cards [aria-current=true]").get_attribute("data-card-id")
    card = requests.get(f"{live_stack['api_url']}/cards/{card_id}", timeout=10).json()
    assert card["shipping"] == {"required": True, "countries": ["FR", "HK"], "fee": {"amount": 450, "currency": "EUR"}}

    paid_with_address(live_stack, card_id, "buyer-packing-0001", 2,
                      {"name": "Ada Lovelace", "line1": "12 rue des Potiers", "city": "Lyon", "postal_code": "69001",
                       "country": "FR"}, "ada@example.com")
    dashboard.locator(f"#cards [data-card-id={card_id}]").click()

    row = dashboard.locator("#packing-rows tr").first
    expect(row).to_contain_text("Ada Lovelace")
    expect(row.locator("td").nth(1)).to_have_text("12 rue des Potiers\n69001 Lyon\nFR")
    expect(row.locator("td").nth(2)).to_have_text("2")
    assert "ada@example.com" not in dashboard.locator("#packing-rows").inner_text()
    dashboard.screenshot(path=str(ARTIFACTS / "dashboard-packing-list.png"), full_page=True)

    form.locator("[name=ship_fee]").fill("5")  # shipping is locked once the card has orders
    dashboard.click("#save")
    expect(dashboard.locator("#flash")).to_contain_text("shipping")
    assert context.console_errors == []
