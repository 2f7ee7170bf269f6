"""GET /dashboard: the seller's page runs only its own inline code and keeps the key in the tab."""
import re


def policy_and_nonces(response):
    page = response.body.decode()
    return response.headers["Content-Security-Policy"], set(re.findall(r'nonce="([^"]+)"', page))


def test_the_dashboard_runs_only_its_own_nonced_code(client, aws):
    response = client.http.get("/dashboard")

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    policy, nonces = policy_and_nonces(response)
    assert len(nonces) == 1
    nonce = nonces.pop()
    assert f"script-src 'nonce-{nonce}'" in policy and "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe" not in policy
    page = response.body.decode()
    assert not re.search(r"\son[a-z]+=", page), "no inline event handlers"


def test_the_key_is_kept_in_session_storage_only(client, aws):
    page = client.http.get("/dashboard").body.decode()

    assert "sessionStorage" in page
    assert "localStorage" not in page and "document.cookie" not in page
