"""The token bucket and the key file on their own."""

import json
import stat

from typer.testing import CliRunner

from core.api.keys import create_key, keys_file, list_keys, revoke_key, verify_key
from core.api.ratelimit import RateLimiter
from core.cli import app as cli_app


def test_token_bucket_refills_at_the_rate():
    now = [0.0]
    rl = RateLimiter(60, burst=2, clock=lambda: now[0])
    assert rl.take("a") == 0 and rl.take("a") == 0
    wait = rl.take("a")
    assert 0 < wait <= 1.0 and RateLimiter.retry_after(wait) == 1
    now[0] += 1.0
    assert rl.take("a") == 0
    assert RateLimiter(0).take("a") == 0  # off


def test_keys_are_stored_hashed_0600_and_verified():
    key = create_key("bot", "admin")
    path = keys_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert key not in text and json.loads(text)["keys"]["bot"]["role"] == "admin"
    assert verify_key(key).name == "bot" and verify_key(key + "x") is None
    assert verify_key(None) is None
    assert [k.name for k in list_keys()] == ["bot"]
    assert revoke_key("bot") and verify_key(key) is None and not revoke_key("bot")


def test_cli_create_key_prints_it_once():
    res = CliRunner().invoke(cli_app, ["admin", "create-key", "ci", "--role", "read"])
    assert res.exit_code == 0, res.output
    key = res.output.split()[0]
    assert key.startswith("qd_") and verify_key(key).role == "read"
    bad = CliRunner().invoke(cli_app, ["admin", "create-key", "ci", "--role", "root"])
    assert bad.exit_code == 2 and "Role" in bad.output
    listed = CliRunner().invoke(cli_app, ["admin", "list-keys"])
    assert "ci" in listed.output and key not in listed.output


def test_serve_api_command_is_mounted():
    res = CliRunner().invoke(cli_app, ["serve-api", "--help"])
    assert res.exit_code == 0 and "--port" in res.output
