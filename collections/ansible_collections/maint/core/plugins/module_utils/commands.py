# Shared by the collector modules; runs on the managed host with its python3 (3.8+), standard library only.
"""Run a helper command on the host: C locale, no pager, no stdin, a time limit; find tools in sbin too."""

import os
import shutil
import subprocess

#: untranslated output, no colours or pager, whatever the login environment says
C_ENV = {"LC_ALL": "C", "LANG": "C", "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": "cat", "PAGER": "cat"}
#: where administration tools live when the module's PATH lacks the sbin folders (a non-root login)
SBIN_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _env(extra):
    env = dict(os.environ)
    env.update(C_ENV)
    env.update(extra or {})
    return env


def run(argv, timeout, env=None):
    """Run ``argv``; return (rc, stdout, stderr) as text. Raises OSError or subprocess.TimeoutExpired.

    ``env`` holds variables set on top of the C locale (``DEBIAN_FRONTEND``, ...).
    """
    proc = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=_env(env),
        check=False,
        text=True,
    )
    return proc.returncode, proc.stdout, proc.stderr


def command_result(argv, timeout, env=None, max_output=400000, max_error=4000, summary=None):
    """Run ``argv`` and return what the evaluator parses, never raising.

    ``{command, rc, stdout, stderr, truncated}``: ``rc`` is None when the command could not start or ran
    out of time (``stderr`` says which); ``stdout`` keeps its last ``max_output`` characters. ``summary``,
    a compiled pattern, keeps the matching lines (a tool's own totals) whole under ``summary`` even when
    ``stdout`` is cut, so the evaluator can check its parse against them.
    """
    command = " ".join(argv)
    try:
        rc, stdout, stderr = run(argv, timeout, env)
    except subprocess.TimeoutExpired:
        return {"command": command, "rc": None, "stdout": "", "stderr": f"timed out after {timeout:g}s"}
    except OSError as exc:
        return {"command": command, "rc": None, "stdout": "", "stderr": str(exc)}
    out = {
        "command": command,
        "rc": rc,
        "stdout": stdout[-max_output:],
        "stderr": stderr[-max_error:],
        "truncated": len(stdout) > max_output,
    }
    if summary is not None:
        lines = [line for line in stdout.splitlines() if summary.match(line)]
        if lines:
            out["summary"] = "\n".join(lines[-3:])
    return out


def which(name):
    """Path of an executable: the module's PATH first, then the sbin folders; None when it is not there."""
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN_DIRS:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None
