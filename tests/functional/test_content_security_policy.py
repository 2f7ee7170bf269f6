"""The card and the product page run only their own inline code: a CSP with a fresh nonce."""
import re


def policy_and_nonces(response):
    policy = response.headers["Content-Security-Policy"]
    nonces = set(re.findall(r'nonce="([^"]+)"', response.body if isinstance(response.body, str)
                            else response.body.decode()))
    return policy, nonces


def test_the_widget_allows_its_own_nonce_and_stripe_only(client, make_card):
    card = make_card(stock=3)
    first = client.http.get(f"/cards/{card.card_id}/widget")
    second = client.http.get(f"/cards/{card.card_id}/widget")

    policy, nonces = policy_and_nonces(first)
    assert len(nonces) == 1
    nonce = nonces.pop()
    assert f"script-src 'nonce-{nonce}' https://js.stripe.com" in policy
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    assert policy_and_nonces(second)[1] != {nonce}, "a nonce is never reused"


def test_the_product_page_has_a_policy_too(client, make_card):
    card = make_card(stock=3)
    policy, nonces = policy_and_nonces(client.http.get(f"/p/{card.card_id}"))
    assert len(nonces) == 1 and f"style-src 'nonce-{nonces.pop()}'" in policy
    assert "script-src" not in policy
