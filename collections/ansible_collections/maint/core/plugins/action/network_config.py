"""Fetch, snapshot and review one network device's configuration (docs: plugins/modules/network_config.py).

Runs on the controller (no connection to the inventory host): netmiko fetches the configuration, the
snapshot goes straight into the ledger (masked normalised text; raw text only Fernet-encrypted), and
the configuration is reviewed with the platform's rule pack. The raw text never leaves this process:
the task result holds only ``maint_results`` (masked, redacted evidence) and the snapshot's id/hash.
In the same SSH session, after the configuration, the platform's facts commands (``show version``...) are
sent and parsed into ``maint_assets`` (``runner.assets.network``); a facts command that fails or output
not understood leaves the facts out (a warning, ``network_config_assets.reason``), never the review.
Then the platform's interface counters command: HEALTH-NET-01 (``network_counters`` evaluator) counts each
interface's errors; a refused, failed or garbled command makes it ``not_checked`` with the reason.
A fetch that fails gives ``not_checked`` rows for every control of the platform, with the reason.
The host variable ``access_approved_admins`` (a list of names) becomes ``approved_admins`` of every rule
declaring that parameter (NET-IOS-12, NET-CX-07, NET-AOSS-09, NET-FGT-09), unless the client's thresholds
set it for that rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.utils.display import Display
from ansible_collections.maint.core.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.maint.core.plugins.plugin_utils.preflight import (
    CHECKS_SPEC,
    require,
    validate_role_vars,
)
from ansible_collections.maint.core.plugins.plugin_utils.results import (
    result_rows,
    summary,
    summary_line,
    task_host_role,
)

from runner import catalogue
from runner.assets.facts import AssetFactsError
from runner.assets.parsers import parse as parse_facts
from runner.evaluators import EvaluatorError
from runner.evaluators.network_counters import DEFAULTS as COUNTERS_DEFAULTS
from runner.evaluators.network_counters import network_counters
from runner.ledger import Ledger, LedgerError
from runner.network import NetworkConfigError, Platform, all_controls, driver, review
from runner.network.checks.access import APPROVED_VAR, with_approved_admins
from runner.network.evaluator import review_overrides
from runner.network.fetch import ConfigUnreadable, Fetched, FetchError, FetchTarget, fetch_device
from runner.network.snapshots import SnapshotError, store
from runner.results import Control, Finding, Status

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    # choices are checked after `checks`, whose message says where the platform is set
    "platform": {"type": "str", "required": True},
    "checks": CHECKS_SPEC,
    "thresholds": {"type": "dict", "default": {}},
    "known_hosts": {"type": "path", "default": None},
    "conn_timeout": {"type": "float", "default": 10.0},
    "read_timeout": {"type": "float", "default": 60.0},
    "store_snapshot": {"type": "bool", "default": True},
}

#: inventory variables read for the credentials, first one set wins (never echoed)
USER_VARS = ("network_config_username", "ansible_user", "ansible_ssh_user")
PASSWORD_VARS = ("network_config_password", "ansible_password", "ansible_ssh_pass")
SECRET_VARS = ("network_config_enable_secret", "ansible_become_password", "ansible_become_pass")


class ActionModule(ControllerAction):
    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        # the preflight, folded into this one task: the role's variables, then its settings checks
        validate_role_vars(self._task, self._templar, task_vars)
        require(args["checks"])
        try:
            platform = Platform(args["platform"])
        except ValueError as exc:
            choices = ", ".join(p.value for p in Platform)
            raise AnsibleActionFail(
                f"network_config: platform '{args['platform']}' is not one of {choices}"
            ) from exc
        device, role = task_host_role(self._task, task_vars, default_role="network_config")
        client = str(self._var(task_vars, ("maint_client",)) or "")
        run_id = str(self._var(task_vars, ("maint_run_id",)) or "") or None
        controls = [c for c in all_controls() if c.control.startswith(driver(platform).control_prefix)]

        if _truthy(self._var(task_vars, ("network_config_simulated",))):
            # a demo device: the platform's recorded device, served on a free loopback port for this
            # fetch only, with one-time credentials and host key (maint_devtools/simulator.py); the host
            # variable network_config_simulated_config makes it serve that file as its configuration
            from maint_devtools.simulator import SimulatedConfigError, serve

            config_path = self._simulated_config(task_vars)
            try:
                with serve(device, platform.value, config_path=config_path) as served:
                    target = FetchTarget(
                        name=device,
                        platform=platform,
                        host=served.sim.host,
                        port=served.sim.port,
                        username=served.username,
                        password=served.password,
                        secret=served.enable_secret,
                        conn_timeout=float(args["conn_timeout"]),
                        read_timeout=float(args["read_timeout"]),
                        known_hosts=served.known_hosts,
                    )
                    fetched = _fetch(target)
            except SimulatedConfigError as exc:
                fetched = ConfigUnreadable(
                    FetchTarget(name=device, platform=platform, host="127.0.0.1"),
                    f"network_config_simulated_config: {exc}",
                )
        else:
            target = FetchTarget(
                name=device,
                platform=platform,
                host=str(self._var(task_vars, ("ansible_host",)) or device),
                port=int(self._var(task_vars, ("ansible_port", "ansible_ssh_port")) or 22),
                username=str(self._var(task_vars, USER_VARS) or ""),
                password=str(self._var(task_vars, PASSWORD_VARS) or ""),
                secret=str(self._var(task_vars, SECRET_VARS) or ""),
                conn_timeout=float(args["conn_timeout"]),
                read_timeout=float(args["read_timeout"]),
                known_hosts=Path(args["known_hosts"]) if args["known_hosts"] else None,
            )
            fetched = _fetch(target)
        snapshot: dict[str, Any] = {}
        assets: dict[str, Any] | None = None
        facts_status: dict[str, Any] = {"recorded": False}
        if isinstance(fetched, FetchError):
            findings = _not_checked(
                controls, f"fetch failed: {fetched.reason.value}", {"detail": fetched.detail}
            )
            facts_status["reason"] = "the configuration fetch failed"
            # the device was not reached: HEALTH-NET-01 says so in the same words as every other row
            # (what the run's outcome and the trend step read as "not reached")
            counters = [
                f.model_copy(
                    update={
                        "evidence": {
                            "reason": f"fetch failed: {fetched.reason.value}",
                            "detail": fetched.detail,
                        }
                    }
                )
                if f.status is Status.NOT_CHECKED
                else f
                for f in _counters(
                    platform, {"error": f"the configuration fetch failed: {fetched.reason.value}"}, args
                )
            ]
        else:
            raw = fetched.config
            assets, facts_status = _assets(device, platform, fetched)
            if fetched.counters_missing is not None or fetched.counters is None:
                counted: dict[str, Any] = {"error": fetched.counters_missing or "no output"}
            else:
                counted = {"output": fetched.counters}
            del fetched
            snapshot = self._store(args, client, device, platform, raw, run_id)
            try:
                overrides = with_approved_admins(
                    review_overrides(args["thresholds"] or {}), self._var(task_vars, (APPROVED_VAR,))
                )
                findings = review(platform, raw, overrides=overrides)
            except NetworkConfigError as exc:
                findings = [
                    c.finding(
                        Status.ERROR, {"error": str(exc)}, remediation="Fix the rule pack or thresholds."
                    )
                    for c in controls
                ]
            del raw
            if snapshot:
                findings = [_with_snapshot(f, snapshot) for f in findings]
            counters = _counters(platform, counted, args)
        findings = [*findings, *counters]
        # the other platforms' controls do not apply to this device: no row, not a not_checked

        rows = result_rows(findings, device, role)
        counts = summary(rows)
        result.update(
            changed=bool(snapshot.get("stored")),
            failed=False,
            maint_results=rows,
            maint_summary=counts,
            network_config_snapshot=snapshot,
            network_config_assets=facts_status,
            msg=f"{device} ({platform.value}): {summary_line(counts)}",
        )
        if assets is not None:
            result["maint_assets"] = assets
        return result

    def _simulated_config(self, task_vars: dict[str, Any]) -> Path | None:
        """The host's ``network_config_simulated_config`` (relative: to the inventory's folder), or None."""
        value = self._var(task_vars, ("network_config_simulated_config",))
        if value is None:
            return None
        path = Path(str(value)).expanduser()
        if not path.is_absolute() and task_vars.get("inventory_dir"):
            path = Path(str(task_vars["inventory_dir"])) / path
        return path

    def _var(self, task_vars: dict[str, Any], names: tuple[str, ...]) -> Any:
        for name in names:
            if name in task_vars and task_vars[name] not in (None, ""):
                value = task_vars[name]
                if isinstance(value, str) and ("{{" in value or "{%" in value):
                    value = self._templar.template(value)
                return value
        return None

    def _store(
        self, args: dict[str, Any], client: str, device: str, platform: Platform, raw: str, run_id: str | None
    ) -> dict[str, Any]:
        if not args["store_snapshot"]:
            return {}
        if not client:
            raise AnsibleActionFail("network_config: maint_client is not set (run it through maint run)")
        try:
            with Ledger() as ledger:
                outcome = store(
                    ledger, client=client, device=device, platform=platform, raw=raw, run_id=run_id
                )
        except (LedgerError, SnapshotError) as exc:
            return {"stored": False, "error": str(exc)}
        return {
            "id": outcome.snapshot_id,
            "hash": outcome.content_hash,
            "stored": outcome.stored,
            "encrypted": outcome.encrypted,
        }


def _fetch(target: FetchTarget) -> Fetched | FetchError:
    try:
        return fetch_device(target)
    except FetchError as exc:
        return exc


def _assets(
    device: str, platform: Platform, fetched: Fetched
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``maint_assets`` from the facts commands' outputs (None when missing or not understood), and the
    ``network_config_assets`` status (``recorded``, ``reason``): facts are whole or absent, never guessed."""
    if fetched.facts_missing is not None:
        reason = f"facts command failed: {fetched.facts_missing}"
    else:
        try:
            facts = parse_facts(platform.value, fetched.facts)
        except AssetFactsError as exc:
            reason = f"facts output not understood: {exc}"
        else:
            return {"platform": platform.value, "host": device, "facts": facts}, {"recorded": True}
    Display().warning(f"network_config: {device}: no asset facts recorded ({reason})")
    return None, {"recorded": False, "reason": reason}


def _counters(platform: Platform, counted: dict[str, Any], args: dict[str, Any]) -> list[Finding]:
    """HEALTH-NET-01 from the counters command's output (or why there is none); never fails the task."""
    raw = {"platform": platform.value, "command": driver(platform).counters_command, **counted}
    try:
        return network_counters(raw, {**COUNTERS_DEFAULTS, **(args["thresholds"] or {})})
    except EvaluatorError as exc:
        control = catalogue.load().control("HEALTH-NET-01").as_control()
        return [control.finding(Status.ERROR, {"error": str(exc)}, remediation="Fix the thresholds.")]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _not_checked(controls: list[Control], reason: str, extra: dict[str, Any]) -> list[Finding]:
    return [c.finding(Status.NOT_CHECKED, {"reason": reason, **extra}) for c in controls]


def _with_snapshot(finding: Finding, snapshot: dict[str, Any]) -> Finding:
    ref = {k: snapshot[k] for k in ("id", "hash", "error") if k in snapshot}
    return finding.model_copy(update={"evidence": {**finding.evidence, "snapshot": ref}})
