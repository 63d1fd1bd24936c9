"""Accelerated runs: the job under mitogen's ``mitogen_linear`` strategy, where mitogen supports it.

mitogen (``ansible_mitogen``) replaces Ansible's per-task module upload and fork over ssh/local
connections with one persistent Python context per host; other connections (network_cli, winrm,
httpapi) it leaves to Ansible. It is switched on through the job's environment only (the strategy
plugins' folder and the default strategy), so a plain run and an accelerated one run the same
playbooks.

Whether mitogen can run is decided the way ``ansible_mitogen`` decides it: importing its
``loaders`` module runs its own release check against the installed ansible-core (version bounds),
and its strategy module must import. That import loads Ansible's plugin machinery, so it is done in
a child interpreter (the one the job's ``ansible-playbook`` runs with, under the same environment),
never in the controller's process.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

STRATEGY = "mitogen_linear"
#: seconds the child interpreter gets to import ansible and ansible_mitogen
PROBE_TIMEOUT_S = 60.0

# Run by the child interpreter: one JSON object on stdout, {"strategy_dir": ...} or {"reason": ...}.
_PROBE = r"""
import json, os, sys
def done(**out):
    sys.stdout.write(json.dumps(out))
    sys.exit(0)
try:
    import ansible
    import ansible.errors
except ImportError as exc:
    done(reason="ansible-core is not importable: %s" % exc)
try:
    import ansible_mitogen
except ImportError as exc:
    done(reason="mitogen is not installed (%s)" % exc)
try:
    import ansible_mitogen.loaders as loaders
    import ansible_mitogen.strategy
except ansible.errors.AnsibleError as exc:
    done(reason=" ".join(str(exc).split()))
except Exception as exc:
    done(reason="ansible_mitogen does not load with ansible-core %s: %s: %s"
         % (ansible.__version__, type(exc).__name__, " ".join(str(exc).split())))
v = tuple(x for x in ansible_mitogen.utils.ansible_version if isinstance(x, int))[:2]
high = getattr(loaders, "ANSIBLE_VERSION_MAX", None)
if high is not None and v > tuple(high):
    done(reason="mitogen supports ansible-core up to %s, installed: %s"
         % (".".join(map(str, high)), ansible.__version__))
strategy_dir = os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")
if not os.path.isfile(os.path.join(strategy_dir, "%s.py" % sys.argv[1])):
    done(reason="ansible_mitogen at %s has no %s strategy" % (strategy_dir, sys.argv[1]))
done(strategy_dir=strategy_dir, ansible=ansible.__version__)
"""


def _python() -> str:
    """The interpreter of the job's ``ansible-playbook`` (runner/execute.py puts its folder first on PATH)."""
    return sys.executable


@functools.lru_cache(maxsize=8)
def _probe(python: str, pythonpath: str, strategy: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    del pythonpath  # part of the cache key: the child inherits it from os.environ
    try:
        done = subprocess.run(
            [python, "-c", _PROBE, strategy],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
            env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return (), f"could not check mitogen with {python}: {exc}"
    try:
        out = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
    except ValueError:
        out = None
    if not isinstance(out, dict):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return (), f"could not check mitogen with {python} (exit {done.returncode}: {last})"
    reason = out.get("reason")
    if isinstance(reason, str):
        return (), reason
    strategy_dir = out.get("strategy_dir")
    if not isinstance(strategy_dir, str) or not Path(strategy_dir).is_dir():
        return (), f"ansible_mitogen reported no strategy folder ({strategy_dir!r})"
    return (("ANSIBLE_STRATEGY_PLUGINS", strategy_dir), ("ANSIBLE_STRATEGY", strategy)), None


def accelerate_env() -> tuple[dict[str, str], str | None]:
    """The environment that runs a job (ansible-runner's or a plain ``ansible-playbook``) under mitogen.

    ``(env, None)`` when mitogen supports the installed ansible-core, else ``({}, reason)``: one line
    saying why (mitogen missing, its release check refusing this ansible-core, or its strategy not
    loading). The answer is cached per interpreter and ``PYTHONPATH``.
    """
    pairs, reason = _probe(_python(), os.environ.get("PYTHONPATH", ""), STRATEGY)
    if reason is not None:
        return {}, reason
    return dict(pairs), None
