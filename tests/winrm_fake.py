"""A WinRM endpoint on 127.0.0.1 that speaks enough WS-Management for pywinrm, and counts what it is asked.

It answers the six WinRS operations Ansible's ``winrm`` connection plugin sends (Create a shell, Command,
Send stdin, Receive output, Signal terminate, Delete the shell: MS-WSMV 3.1.4 and the Windows Remote Shell
resource ``http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd``) over plain HTTP with Basic
authentication. A module execution reaches it as a Command whose stdin is ansible-core's PowerShell
bootstrap input (``<bootstrap manifest JSON>\\n\\0\\0\\0\\0\\n<exec manifest JSON>``, see
``ansible/executor/powershell/module_manifest.py``); the server decodes it, finds the module and its
arguments (``module_wrapper.ps1``'s ``complex_args``) and answers with the module result a Windows host would
print, built from recorded collector outputs:

- ``ansible.windows.win_powershell``: the ``collector = '<name>'`` of the script it was given selects the
  recorded JSON document, returned as the script's last ``output`` (what the real module does with the
  collector's ``ConvertTo-Json`` line);
- ``ansible.windows.win_updates``: the ``start`` / ``poll`` / ``cancel`` operations of its action plugin, the
  poll answering a ``search_result`` made of a recorded win_updates result's ``updates`` and
  ``filtered_updates``.

Nothing else is executed or emulated: any other command is answered with exit code 1 and counted, so a test
sees it. ``FakeWinRM.counts`` holds the WS-Man operations (``Create``, ``Command``, ``Send``, ``Receive``,
``Signal``, ``Delete``) and ``FakeWinRM.modules`` the module executions, in order, with their arguments.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command": "Command",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send": "Send",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive": "Receive",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal": "Signal",
}
SEPARATOR = b"\n\0\0\0\0\n"
_COLLECTOR = re.compile(r"collector\s*=\s*'(\w+)'")


@dataclass
class ModuleCall:
    """One module execution the endpoint answered."""

    module: str
    args: dict[str, Any]


@dataclass
class _Command:
    stdin: bytearray = field(default_factory=bytearray)
    done: bool = False
    stdout: bytes = b""
    rc: int = 0


class FakeWinRM:
    """The endpoint's state: recordings to answer from, and what it was asked."""

    def __init__(
        self,
        outputs: Mapping[str, Any],
        search: Mapping[str, Any] | None = None,
        search_error: tuple[str, int] | None = None,
    ) -> None:
        #: collector name (the script's ``collector = '...'``) -> the JSON document it prints
        self.outputs = dict(outputs)
        #: a recorded win_updates result (``updates``, ``filtered_updates``) the search answers with
        self.search = dict(search or {})
        #: (message, HRESULT) the search fails with instead, as the WUA API reports it to win_updates
        self.search_error = search_error
        self.counts: Counter[str] = Counter()
        self.modules: list[ModuleCall] = []
        self.unknown: list[str] = []
        self._shells: set[str] = set()
        self._commands: dict[str, _Command] = {}
        self._lock = threading.Lock()
        self.port = 0

    # -- WS-Man --------------------------------------------------------------------------------------

    def handle(self, body: bytes) -> bytes:
        root = ET.fromstring(body)
        action_uri = root.findtext("s:Header/a:Action", default="", namespaces=NS)
        message_id = root.findtext("s:Header/a:MessageID", default="", namespaces=NS)
        name = ACTIONS.get(action_uri.strip(), "")
        with self._lock:
            self.counts[name or "unknown"] += 1
            if name == "Create":
                shell = str(uuid.uuid4()).upper()
                self._shells.add(shell)
                return _envelope(
                    action_uri + "Response",
                    message_id,
                    '<x:ResourceCreated xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer">'
                    f'<a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">{shell}</w:Selector>'
                    "</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
                    f"<rsp:Shell><rsp:ShellId>{shell}</rsp:ShellId></rsp:Shell>",
                )
            if name == "Command":
                command = str(uuid.uuid4()).upper()
                self._commands[command] = _Command()
                return _envelope(
                    action_uri + "Response",
                    message_id,
                    f"<rsp:CommandResponse><rsp:CommandId>{command}</rsp:CommandId></rsp:CommandResponse>",
                )
            if name == "Send":
                stream = root.find("s:Body/rsp:Send/rsp:Stream", NS)
                if stream is not None:
                    cmd = self._commands[stream.get("CommandId", "")]
                    cmd.stdin += base64.b64decode(stream.text or "")
                    if stream.get("End", "").lower() == "true":
                        cmd.stdout, cmd.rc = self._run(bytes(cmd.stdin))
                        cmd.done = True
                return _envelope(action_uri + "Response", message_id, "<rsp:SendResponse/>")
            if name == "Receive":
                wanted = root.find("s:Body/rsp:Receive/rsp:DesiredStream", NS)
                command_id = wanted.get("CommandId", "") if wanted is not None else ""
                cmd = self._commands[command_id]
                if not cmd.done:  # a command without stdin: nothing this endpoint can run
                    cmd.stdout, cmd.rc, cmd.done = b"", 1, True
                    self.unknown.append("a command without stdin")
                out = base64.b64encode(cmd.stdout).decode()
                return _envelope(
                    action_uri + "Response",
                    message_id,
                    "<rsp:ReceiveResponse>"
                    f'<rsp:Stream Name="stdout" CommandId="{command_id}">{out}</rsp:Stream>'
                    f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>'
                    f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>'
                    f'<rsp:CommandState CommandId="{command_id}" '
                    'State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done">'
                    f"<rsp:ExitCode>{cmd.rc}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>",
                )
            if name == "Signal":
                signal = root.find("s:Body/rsp:Signal", NS)
                if signal is not None:
                    self._commands.pop(signal.get("CommandId", ""), None)
                return _envelope(action_uri + "Response", message_id, "<rsp:SignalResponse/>")
            if name == "Delete":
                selector = root.find("s:Header/w:SelectorSet/w:Selector", NS)
                self._shells.discard(selector.text if selector is not None and selector.text else "")
                return _envelope(action_uri + "Response", message_id, "")
            self.unknown.append(action_uri)
            return _envelope(action_uri + "Response", message_id, "")

    # -- module executions ---------------------------------------------------------------------------

    def _run(self, stdin: bytes) -> tuple[bytes, int]:
        parts = stdin.split(SEPARATOR)
        if len(parts) < 2:
            self.unknown.append("stdin that is not ansible-core's bootstrap input")
            return b"", 1
        manifest = json.loads(parts[1])
        wrapper = next((a for a in manifest["actions"] if a["name"] == "module_wrapper.ps1"), None)
        if wrapper is None:
            self.unknown.append("an exec manifest without module_wrapper.ps1")
            return b"", 1
        script = str(wrapper["params"]["Script"])
        module = _fqcn(script.rsplit(".ps1", 1)[0])
        args: dict[str, Any] = next(
            (v["Value"] for v in wrapper["params"].get("Variables", []) if v["Name"] == "complex_args"), {}
        )
        self.modules.append(ModuleCall(module, dict(args)))
        if module == "ansible.windows.win_powershell":
            result = self._win_powershell(args)
        elif module == "ansible.windows.win_updates":
            result = self._win_updates(args)
        else:
            self.unknown.append(f"module {module}")
            result = {"failed": True, "msg": f"the fake WinRM endpoint does not run {module}"}
        return json.dumps(result).encode(), 0

    def _win_powershell(self, args: Mapping[str, Any]) -> dict[str, Any]:
        match = _COLLECTOR.search(str(args.get("script") or ""))
        name = match.group(1) if match else ""
        if name not in self.outputs:
            return {"failed": True, "msg": f"no recording for the collector {name!r}", "output": []}
        return {
            "changed": False,
            "output": [json.dumps(self.outputs[name])],
            "error": [],
            "result": {},
            "host_out": "",
            "host_err": "",
            "information": [],
            "warning": [],
            "verbose": [],
            "debug": [],
        }

    def _win_updates(self, args: Mapping[str, Any]) -> dict[str, Any]:
        operation = args.get("_operation")
        if operation == "start":
            return {"changed": False, "poll_options": {"pipe_name": "fake"}, "cancel_options": {"pid": 1}}
        if operation == "cancel":
            return {"changed": False}
        if self.search_error is not None:
            message, hresult = self.search_error
            failure = {"message": message, "exception": message, "hresult": hresult}
            exit_result = {"changed": False, "reboot_required": False, "failed": True, "exception": failure}
            return {"changed": False, "output": [{"task": "exit", "result": exit_result}]}
        updates = [
            {
                "id": u["id"],
                "title": u["title"],
                "kb": [f"KB{k}" for k in u["kb"]],
                "categories": u["categories"],
            }
            for u in {**self.search.get("updates", {}), **self.search.get("filtered_updates", {})}.values()
        ]
        filtered = [
            {"id": u["id"], "reasons": u.get("filtered_reasons", ["category_names"])}
            for u in self.search.get("filtered_updates", {}).values()
        ]
        return {
            "changed": False,
            "output": [
                {"task": "search_result", "result": {"updates": updates, "filtered": filtered}},
                {"task": "exit", "result": {"changed": False, "reboot_required": False, "failed": False}},
            ],
        }


def _fqcn(name: str) -> str:
    """``a.b.m`` from the module wrapper's ``ansible_collections.a.b.plugins.modules.m``."""
    match = re.fullmatch(r"ansible_collections\.(\w+)\.(\w+)\.plugins\.modules\.(\w+)", name)
    return ".".join(match.groups()) if match else name


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" xmlns:rsp="{NS["rsp"]}">'
        f"<s:Header><a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _handler(state: FakeWinRM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path != "/wsman" or not self.headers.get("Authorization", "").startswith("Basic "):
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            reply = state.handle(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running(
    outputs: Mapping[str, Any],
    search: Mapping[str, Any] | None = None,
    search_error: tuple[str, int] | None = None,
) -> Iterator[FakeWinRM]:
    """The endpoint on 127.0.0.1 (a free port, ``.port``) for the duration of the block."""
    state = FakeWinRM(outputs, search, search_error)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
