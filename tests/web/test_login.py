"""Logging in and out of the console, and what an anonymous visitor gets."""

import pytest

from tests.web.console_server import PASSWORD, Console, post_form


def test_an_anonymous_visitor_is_sent_to_the_login_page(console: Console) -> None:
    client = console.client()
    for path in ("/", "/campaigns/T23", "/campaigns/T23/units/B1", "/account/password"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login"
    page = client.get("/login")
    assert page.status_code == 200
    assert "Đăng nhập" in page.text and 'name="login"' in page.text


def test_a_login_opens_a_signed_httponly_session_and_logout_ends_it(console: Console) -> None:
    client = console.client()
    response = post_form(client, "/login", {"login": "bt.b1", "password": PASSWORD})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/account/password").status_code == 200
    logout = post_form(client, "/logout", {}, token_from="/account/password")
    assert logout.status_code == 303
    assert client.get("/account/password").status_code == 303


@pytest.mark.parametrize("login", ["bt.b1", "nobody"])
def test_a_wrong_password_or_login_is_refused_alike(console: Console, login: str) -> None:
    client = console.client()
    response = post_form(client, "/login", {"login": login, "password": "not-the-password"})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.text
    assert client.get("/account/password").status_code == 303
