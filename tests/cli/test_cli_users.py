"""The administrator's accounts (issue 22): `campaign users add|list|disable|reset-password`
through the real command, the password read from standard input only, stored as an Argon2id
hash and never shown."""

from sqlalchemy import Engine, select

from models.accounts import Account
from models.db import transaction
from tests.cli_process import run_cli

SECRET = "mot-mat-khau-dai-1"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _account(engine: Engine, login: str) -> Account:
    with transaction(engine) as session:
        account = session.scalar(select(Account).where(Account.login == login))
        assert account is not None, login
        session.expunge(account)
        return account


def _add(engine: Engine, login: str = "bt.b1", password: str = SECRET) -> None:
    added = run_cli(
        "users",
        "add",
        login,
        "--name",
        "Nguyễn Văn An",
        "--role",
        "secretary",
        "--unit",
        "B1",
        database_url=_url(engine),
        stdin=password + "\n",
    )
    assert added.returncode == 0, added.stdout + added.stderr
    assert SECRET not in added.stdout + added.stderr


def test_users_add_stores_an_argon2id_hash_of_the_password_from_stdin(town: Engine) -> None:
    _add(town)
    account = _account(town, "bt.b1")
    assert account.password_hash.startswith("$argon2id$")
    assert SECRET not in account.password_hash
    assert (account.role, account.full_name, account.disabled) == (
        "secretary",
        "Nguyễn Văn An",
        False,
    )


def test_a_password_option_on_the_command_line_is_not_accepted(town: Engine) -> None:
    refused = run_cli(
        "users",
        "add",
        "bt.b1",
        "--name",
        "An",
        "--role",
        "secretary",
        "--unit",
        "B1",
        "--password",
        SECRET,
        database_url=_url(town),
        stdin=SECRET + "\n",
    )
    assert refused.returncode != 0
    assert "--password" in refused.stdout + refused.stderr  # "No such option"
    with transaction(town) as session:
        assert session.scalar(select(Account.id).where(Account.login == "bt.b1")) is None


def test_users_add_refuses_a_short_password_an_unknown_unit_or_no_stdin(town: Engine) -> None:
    url = _url(town)
    base = ("users", "add", "x.y", "--name", "X", "--role", "operator")
    short = run_cli(*base, "--unit", "TOWN", database_url=url, stdin="short\n")
    unknown = run_cli(*base, "--unit", "NOWHERE", database_url=url, stdin=SECRET + "\n")
    empty = run_cli(*base, "--unit", "TOWN", database_url=url, stdin="")
    for result in (short, unknown, empty):
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert "10 characters" in short.stdout + short.stderr
    with transaction(town) as session:
        assert session.scalar(select(Account.id)) is None


def test_users_list_shows_accounts_and_never_a_hash(town: Engine) -> None:
    _add(town)
    _add(town, "ubkt")
    listed = run_cli("users", "list", database_url=_url(town))
    assert listed.returncode == 0, listed.stderr
    assert "bt.b1" in listed.stdout and "ubkt" in listed.stdout
    assert "Nguyễn Văn An" in listed.stdout and "active" in listed.stdout
    assert "argon2" not in listed.stdout and SECRET not in listed.stdout


def test_users_disable_marks_the_account_and_ends_its_sessions(town: Engine) -> None:
    _add(town)
    before = _account(town, "bt.b1").generation
    disabled = run_cli("users", "disable", "bt.b1", database_url=_url(town))
    assert disabled.returncode == 0, disabled.stderr
    account = _account(town, "bt.b1")
    assert account.disabled and account.generation > before
    assert "disabled" in run_cli("users", "list", database_url=_url(town)).stdout
    missing = run_cli("users", "disable", "nobody", database_url=_url(town))
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


def test_users_reset_password_sets_a_new_hash_and_unlocks(town: Engine) -> None:
    _add(town)
    with transaction(town) as session:
        account = session.scalar(select(Account).where(Account.login == "bt.b1"))
        assert account is not None
        old_hash = account.password_hash
        account.failed_logins = 3
    new = "mat-khau-moi-hoan-toan"
    reset = run_cli("users", "reset-password", "bt.b1", database_url=_url(town), stdin=new + "\n")
    assert reset.returncode == 0, reset.stderr
    assert new not in reset.stdout + reset.stderr
    account = _account(town, "bt.b1")
    assert account.password_hash.startswith("$argon2id$") and account.password_hash != old_hash
    assert account.failed_logins == 0 and account.locked_until is None
