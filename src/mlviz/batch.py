"""Batches of renders: where their jobs run, and which of them need not run again.

**Where.** :func:`open_backend` hands out a :class:`concurrent.futures.Executor` for the
jobs of a batch (``mlviz gallery``): local worker processes by default (spawned, like the
gallery always used), or a Dask distributed cluster given its scheduler's address, for
batches larger than one machine. Dask is an optional extra (``pip install 'mlviz[dask]'``)
and is imported only then. A cluster's workers may not share this machine's files, so a
job sent there returns the bytes of the files it made and this process writes them.

Each render runs alone in its process: matplotlib's style and torch's thread count are
process-wide, so :func:`render_lock` serialises renders that a multi-threaded Dask worker
would otherwise run side by side (start workers with ``--nthreads 1`` to use every core).

**Which.** :func:`render_key` is a digest of everything a render depends on: the
algorithm and its plugin, every hyperparameter (the seed included), the data (the arrays
themselves), the frame budget and output formats, the versions of Python and of the
libraries that train, draw and encode, and the source code of mlviz and of the plugin's
package (an editable install changes without a version bump). A batch that finds an
output with the same key from an earlier build keeps it instead of rendering again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np

from .cache import python_files
from .errors import MlvizError
from .processes import process_pool

#: The extra that installs the Dask scheduler client.
DASK_EXTRA = "mlviz[dask]"
#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT_S = 5.0
#: Libraries whose version can change a render (training, drawing, encoding).
LIBRARIES = ("mlviz", "numpy", "matplotlib", "pillow", "imageio", "imageio-ffmpeg", "torch")

_RENDER_LOCK = threading.Lock()


@dataclass
class Backend:
    """Where a batch runs: an executor, a phrase for progress lines, and whether its
    workers may be on other machines (then jobs return their files' bytes)."""

    executor: Executor
    description: str
    remote: bool = False


@contextmanager
def open_backend(
    scheduler: str | None = None,
    workers: int = 2,
    *,
    initializer: Callable[[], None] | None = None,
    timeout: float | None = None,
) -> Iterator[Backend]:
    """Local worker processes (``workers`` of them, spawned; ``initializer`` runs in each),
    or, given a ``scheduler`` address (``tcp://host:8786``), the Dask cluster behind it
    (waiting at most ``timeout`` seconds for it; default :data:`CONNECT_TIMEOUT_S`).

    A missing ``distributed`` package or an unreachable scheduler is a one-line
    :class:`MlvizError`. Leaving the block shuts the pool down or closes the client.
    """
    if not scheduler:
        workers = max(1, workers)
        # spawned: never a fork of a process that runs threads (the gallery's own)
        with process_pool(workers, method="spawn", initializer=initializer) as pool:
            yield Backend(pool, f"{workers} worker process{'es' * (workers != 1)}")
        return
    client = connect(scheduler, timeout=timeout)
    try:
        count = len(client.scheduler_info().get("workers", {}))
        yield Backend(client.get_executor(pure=False),
                      f"the Dask cluster at {scheduler} ({count} worker"
                      f"{'s' * (count != 1)})", remote=True)
    finally:
        client.close()


def require_dask() -> None:
    """Fail in one line, naming the extra to install, when ``distributed`` is missing."""
    try:
        import distributed  # noqa: F401
    except ModuleNotFoundError:
        raise MlvizError(
            "a Dask scheduler needs the distributed package, which is not installed; "
            f"install it with: pip install '{DASK_EXTRA}'"
        ) from None


#: The schemes of a Dask scheduler's address that name a host and port.
NETWORK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_EXAMPLE = "e.g. tcp://10.0.0.5:8786"


def check_scheduler_address(address: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a Dask scheduler's address (``tcp://HOST:PORT``, or
    ``HOST:PORT``; ``tls``, ``ws``, ``wss``, ``ucx`` too; ``inproc://…`` has no host:
    ``(scheme, "", None)``). A malformed one is a one-line :class:`MlvizError` naming it and
    what is wrong; Dask is not needed."""
    text = address.strip()

    def bad(why: str) -> MlvizError:
        return MlvizError(f"not a Dask scheduler address: {address!r}: {why}")

    if not text or not text.isprintable() or any(c.isspace() for c in text):
        raise bad(f"expected tcp://HOST:PORT, {_EXAMPLE}")
    scheme, sep, location = text.partition("://")
    if not sep:
        scheme, location = "tcp", text
    scheme = scheme.lower()
    if scheme == "inproc":
        return scheme, "", None
    if scheme not in NETWORK_SCHEMES:
        raise bad(f"unknown scheme {scheme + '://'!r}; use "
                  + ", ".join(f"{s}://" for s in NETWORK_SCHEMES) + f" ({_EXAMPLE})")
    if location.startswith("["):  # [IPv6]:port
        host, close, rest = location[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            raise bad(f"an IPv6 address goes in brackets before the port, e.g. {scheme}://[::1]:8786")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad(f"{host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = location.rpartition(":")
        if not colon:
            host, port_text = location, ""
        if ":" in host:
            raise bad(f"{location!r} is not HOST:PORT (an IPv6 address goes in brackets, "
                      f"e.g. {scheme}://[::1]:8786)")
        if not _HOST.fullmatch(host):
            raise bad(f"{host!r} is not a host name or IP address ({_EXAMPLE})")
    if not port_text:
        raise bad(f"the port is missing ({_EXAMPLE}; a scheduler listens on 8786 by default)")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise bad(f"the port must be a number from 1 to 65535, not {port_text!r}")
    return scheme, host, int(port_text)


_HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
                   r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?")


def connect(scheduler: str, timeout: float | None = None):
    """A ``distributed.Client`` of the scheduler at ``scheduler``, within ``timeout`` seconds
    (default :data:`CONNECT_TIMEOUT_S`). A malformed address, nothing listening there, or
    something other than a Dask scheduler answering is one :class:`MlvizError` line naming
    the address; no client is left behind to complain when it is collected."""
    scheme, host, port = check_scheduler_address(scheduler)
    require_dask()
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    if port is not None and scheme != "ucx":
        _reach(scheduler, host, port, timeout)
    if scheme != "inproc":
        _ask_identity(scheduler, timeout)
    from distributed import Client

    try:
        return Client(scheduler, timeout=timeout, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - whatever answered, it is no usable scheduler
        _forget_client(exc)
        reason = _reason(exc)
    # raised here, not in the except block: the error keeps no traceback to the client
    raise MlvizError(f"cannot use the Dask scheduler at {scheduler}: {reason}")


def _reach(scheduler: str, host: str, port: int, timeout: float) -> None:
    """A TCP connection to ``host:port`` opens (else one line: unknown host, refused, …)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        raise MlvizError(f"cannot reach the Dask scheduler at {scheduler}: unknown host "
                         f"{host!r} ({exc.strerror or exc})") from None
    except TimeoutError:
        raise MlvizError(f"cannot reach the Dask scheduler at {scheduler}: no answer within "
                         f"{timeout:g} s") from None
    except OSError as exc:
        raise MlvizError(f"cannot reach the Dask scheduler at {scheduler}: "
                         f"{(exc.strerror or str(exc)).lower()}") from None


def _ask_identity(scheduler: str, timeout: float) -> None:
    """Ask what answers at ``scheduler`` (Dask's ``identity`` call, on a thread of its own
    with its own event loop); one line unless a Dask scheduler says it is one."""
    import asyncio

    from distributed.comm import connect as open_comm

    async def ask() -> object:
        comm = await open_comm(scheduler, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    answer: dict[str, Any] = {}

    def run() -> None:
        try:  # one deadline for connecting, the handshake and the reply
            answer["reply"] = asyncio.run(asyncio.wait_for(ask(), timeout))
        except BaseException as exc:  # noqa: BLE001 - reported below, in this thread
            answer["error"] = exc

    thread = threading.Thread(target=run, name="mlviz-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 1)
    what = f"something listens at {scheduler}, but it is no Dask scheduler"
    if thread.is_alive() or isinstance(answer.get("error"), (TimeoutError, asyncio.TimeoutError)):
        raise MlvizError(f"{what}: no reply within {timeout:g} s")
    if "error" in answer:
        raise MlvizError(f"{what} ({_reason(answer['error'])})")
    reply = answer.get("reply")
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        said = f"a {kind}" if isinstance(kind, str) else f"{type(reply).__name__} {reply!r:.60}"
        raise MlvizError(f"{what} (it says it is {said})")


def _reason(exc: BaseException) -> str:
    """``Type: message`` of ``exc`` on one short line."""
    text = " ".join(str(exc).split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _forget_client(exc: BaseException) -> None:
    """Mark the ``Client`` a failed constructor leaves as closed: collected later, it would
    otherwise try to close its connection for twice the timeout and print a traceback."""
    from distributed import Client

    for frame, _ in traceback.walk_tb(exc.__traceback__):
        client = frame.f_locals.get("self")
        if isinstance(client, Client):
            client.status = "closed"
            runner = getattr(client, "_loop_runner", None)
            if runner is not None:
                try:
                    runner.stop()
                except Exception:  # noqa: BLE001 - best effort: the loop may be gone
                    pass


@contextmanager
def render_lock() -> Iterator[None]:
    """Hold while rendering: one render at a time in this process."""
    with _RENDER_LOCK:
        yield


# --- the cache key --------------------------------------------------------------------

def render_key(
    algorithm,
    config,
    dataset,
    *,
    settings: Mapping[str, Any] | None = None,
    versions: Mapping[str, str | None] | None = None,
    code: str | None = None,
) -> str:
    """A hex digest of what one render of ``algorithm`` with ``config`` on ``dataset`` depends
    on. ``settings``: how it is drawn and written (frame budget, formats, fps, dpi, …).
    ``versions`` and ``code`` default to :func:`library_versions` and the digest of the
    source of mlviz and of the algorithm's plugin (:func:`code_digest`)."""
    record = {
        "algorithm": algorithm.name,
        "plugin": algorithm.plugin,
        "config": {key: _plain(value) for key, value in sorted(config.as_dict().items())},
        "data": dataset_digest(dataset),
        "settings": {key: _plain(value) for key, value in sorted((settings or {}).items())},
        "versions": dict(sorted((versions or library_versions()).items())),
        "code": code if code is not None else code_digest(plugin_modules(algorithm)),
    }
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dataset_digest(dataset) -> str:
    """A digest of a dataset's arrays (shape, type and bytes) and names."""
    digest = hashlib.sha256()
    for values in (dataset.X, dataset.y):
        if values is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(values)
        if array.dtype == object:
            digest.update(repr(array.tolist()).encode("utf-8"))
        else:
            digest.update(f"{array.shape}{array.dtype.str}".encode())
            digest.update(array.tobytes())
    names = [list(dataset.feature_names), dataset.target_name, dataset.name,
             dataset.description, sorted(getattr(dataset, "extra", None) or ())]
    digest.update(json.dumps(names, default=repr).encode("utf-8"))
    return digest.hexdigest()


def library_versions() -> dict[str, str | None]:
    """The installed version of Python and of each of :data:`LIBRARIES` (None: missing)."""
    return {"python": sys.version.split()[0], **{name: _version(name) for name in LIBRARIES}}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def plugin_modules(algorithm) -> list[str]:
    """The top-level modules whose code an algorithm runs: mlviz and its plugin's."""
    roots = {"mlviz"}
    for part in (algorithm.config, algorithm.trainer, algorithm.dataset, algorithm.scene,
                 getattr(algorithm, "schedule", None), getattr(algorithm, "load_data", None)):
        module = getattr(part, "__module__", None)
        if module:
            roots.add(module.partition(".")[0])
    return sorted(roots)


def code_digest(modules: Iterable[str]) -> str:
    """A digest of the Python source of every file of the top-level ``modules``."""
    digest = hashlib.sha256()
    for module in sorted(modules):
        digest.update(module.encode())
        digest.update(_module_digest(module).encode())
    return digest.hexdigest()


def _module_digest(module: str) -> str:
    files, base = python_files(module)
    if not base:
        return "missing"
    digest = hashlib.sha256()
    for file in files:
        try:
            with open(file, "rb") as handle:
                content = handle.read()
        except OSError:
            continue
        digest.update(os.path.relpath(file, base).encode("utf-8", "surrogateescape"))
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """A JSON-able form of a hyperparameter or setting value."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return repr(value)
