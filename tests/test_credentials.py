"""The credentials a run knows by value, and their scrub from files and data (no job needed)."""

from __future__ import annotations

import json
from pathlib import Path

from runner.credentials import Scrubber, known_credentials

PASSWORD = "unit-vault-pw"


def _encrypt(text: str) -> str:
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    return VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(PASSWORD.encode()))]).encrypt(text).decode()


def test_known_credentials_come_from_vaults_secret_keys_and_the_environment_they_read(tmp_path: Path) -> None:
    inv = tmp_path / "acme"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "host_vars").mkdir()
    (inv / "group_vars" / "all" / "vault.yml").write_text(_encrypt("vault_whatever: CanaryVaultFile99\n"))
    inline = _encrypt("CanaryInline55").replace("\n", "\n  ")
    (inv / "host_vars" / "pc01.yml").write_text(
        f"site_label: !vault |\n  {inline}\n"
        "api_token: LiteralSecret77\n"
        "ansible_become_password: \"{{ lookup('ansible.builtin.env', 'PLAIN_NAME') }}\"\n"
        "site_note: harmless-text\n"
        "ansible_password: 'yes'\n"
        "bomb: &a [x, x, x]\n"
        "bomb2: [*a, *a, *a]\n"
    )
    (inv / "hosts.yml").write_text("all:\n  hosts:\n    pc01: {}\n")
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD)
    env = {"PLAIN_NAME": "FromEnv4242", "MAINT_DEMO_DEVICE_ENABLE": "DemoEnable31", "HOME": "/home/x"}
    found = known_credentials(inv, env, str(password_file))
    assert {"CanaryVaultFile99", "CanaryInline55", "LiteralSecret77", "FromEnv4242", "DemoEnable31"} <= found
    assert PASSWORD in found
    assert not {"harmless-text", "yes", "/home/x"} & found


def test_scrubber_masks_raw_and_json_escaped_forms_in_files_and_data(tmp_path: Path) -> None:
    secret = 'pa"ss\\wörd'
    scrub = Scrubber([secret, "true", "12"])  # words and numbers every file holds are never scrubbed
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"a": secret, "b": f"x{secret}y", "ok": True, "n": 12}))
    assert scrub.file(path)
    data = json.loads(path.read_text())
    assert data == {"a": "********", "b": "x********y", "ok": True, "n": 12}
    event = {"res": {"msg": [f"login {secret}"], secret: 1}}
    assert scrub.data(event) == {"res": {"msg": ["login ********"], "********": 1}}
    assert not scrub.file(path)  # nothing left: the file is not rewritten


def test_every_file_of_a_large_inventory_is_read_for_credentials(tmp_path: Path) -> None:
    # the alias guard remembers object ids: a document freed after its walk must not hide the next
    # file's mappings that happen to be allocated at the same address (this lost a vaulted value in CI)
    inv = tmp_path / "acme"
    (inv / "host_vars").mkdir(parents=True)
    for i in range(120):
        (inv / "host_vars" / f"a{i:03d}.yml").write_text("site:\n  floor: 1\n")
        (inv / "host_vars" / f"b{i:03d}.yml").write_text(f"extra:\n  api_token: LiteralSecret{i:04d}\n")
    found = known_credentials(inv, env={})
    assert {f"LiteralSecret{i:04d}" for i in range(120)} <= found
