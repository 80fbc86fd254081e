"""leakfix_runtime: which lines of an application leak connections (and other handles) in
production, counted as they happen.

Enable it with one line at start-up, before the application's modules are imported:

    import leakfix_runtime; leakfix_runtime.install()

or, with the `sitecustomize.py` that `leakfix runtime install DIR` writes, by setting
LEAKFIX_RUNTIME=1 in the environment (LEAKFIX_RUNTIME_RULES, LEAKFIX_RUNTIME_OUT,
LEAKFIX_RUNTIME_INTERVAL, LEAKFIX_RUNTIME_RELEASE and LEAKFIX_RUNTIME_OPEN set the arguments of
install()).

It wraps the acquirers leakfix's rules name (`leakfix runtime rules > rules.json` exports the
project's, with the wrappers it discovered), DB-API `connect` functions, psycopg2's pools and,
when asked, `open()`. Each handle they return is tied to the line that called them (the caller's
frame only, no stack walk). A handle collected while still open counts one leak for that line;
the handles still open are counted per line too. Both are given as a dict (counts()), as
Prometheus text (prometheus()) and as JSON lines appended to a file (`out=`), which `leakfix plan
--runtime FILE` joins to its findings.

It uses the standard library only (Python 3.8+) and never raises into the application: if its
own bookkeeping fails, it says so once on stderr and steps aside.
"""
import functools
import importlib.abc
import io
import itertools
import json
import linecache
import os
import sys
import threading
import time
import weakref

__all__ = ["install", "uninstall", "counts", "prometheus", "write_snapshot", "install_from_env"]

# What is wrapped when no rules are given: the shipped rule's factory (get_db_connection), the
# DB-API drivers' connect() and psycopg2's pools. `leakfix runtime rules` gives a project's own.
DEFAULT_RULES = {
    "acquirers": [
        {"call": "get_db_connection"},
        {"call": "sqlite3.connect"}, {"call": "psycopg2.connect"}, {"call": "pymysql.connect"},
        {"call": "MySQLdb.connect"}, {"call": "mysql.connector.connect"}, {"call": "pyodbc.connect"},
        {"call": "*.getconn", "released_by_function": True},
    ],
    "releases": [{"call": "*.putconn", "argument": 0}],
    "methods": ["close"],
}

_LIBRARY_POOLS = ("psycopg2.pool",)  # where `*.getconn` and `*.putconn` are looked for outside the project


_now = time.time


def _value(counter):
    """An itertools.count's next value, without taking it (its repr is `count(N)` on every
    version; its pickling support, which also says it, is gone in 3.14)."""
    return int(repr(counter)[6:-1])


class _Site:
    """One acquiring line. Its counts are itertools.count objects, whose next() is one atomic
    step under the GIL: the hot paths take no lock."""
    __slots__ = ("file", "line", "function", "text", "taken", "handed_on", "released", "lost", "last_leak", "last_seen", "seen_at")

    def __init__(self, file, line, function, text):
        self.file, self.line, self.function, self.text = file, line, function, text
        self.taken, self.handed_on, self.released, self.lost = (itertools.count() for _ in range(4))
        self.last_leak = self.last_seen = None
        self.seen_at = 0  # acquisitions counted when last_seen was last set

    def as_dict(self):
        taken, handed_on, released, lost = (_value(c) for c in (self.taken, self.handed_on, self.released, self.lost))
        acquired = taken - handed_on
        if acquired != self.seen_at:  # acquired since the last look: seen now (to the snapshot)
            self.seen_at, self.last_seen = acquired, _now()
        return {"file": self.file, "line": self.line, "function": self.function, "text": self.text,
                "acquired": acquired, "open": acquired - released - lost, "leaked": lost,
                "last_leak": self.last_leak, "last_seen": self.last_seen}


_REMOVE = object()  # uninstall(): the attribute was added, not replaced


class _FileName(str):
    """The repr of a tracked file's name, as CPython's ResourceWarning writes it."""


class _Ref(weakref.ref):
    """A weak reference to a handle, with what the runtime knows of it."""
    __slots__ = ("key", "site", "state")


class _Runtime:
    def __init__(self, rules, root, release_leaked, on_leak, track_open):
        self.root = os.path.realpath(root) + os.sep
        self.release_leaked = release_leaked
        self.slow = False  # acquisitions take acquired()'s full path (see acquirer): after a failure
        self.on_leak = on_leak
        self.sites = {}  # (file, line) -> _Site
        self.by_code = {}  # (id(code), instruction) -> _Site: how a call finds its site
        self.codes = []  # the code objects of by_code, kept alive
        # Handles followed, by id: those of watched classes (a finalizer says when one is
        # collected; ids of live objects are unique and an entry goes at its object's death) ...
        self.owned = {}  # id(handle) -> _Site
        # ... and the others (files, a pool's C connections), by a weak reference.
        self.records = {}  # id(handle) -> _Ref
        self.failed = False
        self.patched = []  # (owner, name, original): what uninstall() puts back
        self.watched_types = {}  # type -> whether its release can be seen
        self.acquirers = rules.get("acquirers", [])
        self.releases = rules.get("releases", [])
        self.methods = rules.get("methods", ["close"])
        self.track_open = track_open
        self.unclosed = None  # the name of the file CPython last warned was collected open
        if track_open:
            self.hear_unclosed_files()

    # ---- bookkeeping ----------------------------------------------------------------------

    def fail(self, error):
        if not self.failed:
            self.failed = self.slow = True
            try:
                sys.stderr.write(f"leakfix_runtime: stepping aside after an error in its bookkeeping: {error!r}\n")
            except Exception:
                pass

    def site_of(self, frame):
        """The site of the call a frame is making. Found again by its code object and
        instruction (cheaper than its line number, which is computed); the code is kept, so
        that its id is not another's."""
        code = frame.f_code
        fast = (id(code), frame.f_lasti)
        site = self.by_code.get(fast)
        if site is not None:
            return site
        key = (code.co_filename, frame.f_lineno)
        site = self.sites.get(key)
        if site is None:
            text = linecache.getline(code.co_filename, frame.f_lineno).strip()
            site = self.sites.setdefault(key, _Site(code.co_filename, frame.f_lineno, code.co_name, text))
        self.codes.append(code)
        self.by_code[fast] = site
        return site

    def acquired(self, handle, frame, releasable):
        if handle is None or self.failed:
            return
        cls = type(handle)
        is_file = self.track_open and isinstance(handle, io.IOBase)
        if is_file:
            # A file's close cannot be wrapped; CPython says when it collects one still open.
            if not frame.f_code.co_filename.startswith(self.root):
                return
            seen = True
        else:
            seen = self.watched_types.get(cls)
            if seen is None:
                seen = self.watch_type(cls)
        if not (seen or releasable):
            return  # its release cannot be seen: it would count as a leak when it is not one
        site = self.site_of(frame)
        key = id(handle)
        self.hand_on(handle, key)
        if seen is True and not is_file:
            self.owned[key] = site
            next(site.taken)
            return
        try:
            ref = _Ref(handle, self.collected)
        except TypeError:
            return  # no weak references to it: it cannot be followed
        ref.key = key
        ref.site = site
        if is_file:
            ref.state = _FileName(repr(getattr(handle, "name", None)))
        self.records[key] = ref
        next(site.taken)

    def hand_on(self, handle, key):
        """A handle already followed, returned again by a wrapper (get_db_connection() inside
        open_tenant_db()): it is the caller's, whose line is where it is kept or lost."""
        old = self.owned.pop(key, None)
        if old is not None:
            next(old.handed_on)
            return
        ref = self.records.get(key)
        if ref is not None and ref() is handle:
            del self.records[key]
            next(ref.site.handed_on)

    def released(self, handle):
        key = id(handle)
        site = self.owned.pop(key, None)
        if site is not None:
            next(site.released)
            return
        ref = self.records.pop(key, None)
        if ref is None:
            return
        if ref() is handle:
            next(ref.site.released)
        else:  # another object's record under a reused id: not this one's to drop
            self.records.setdefault(ref.key, ref)

    def leaked(self, site):
        next(site.lost)
        site.last_leak = _now()
        if self.on_leak is not None:
            self.on_leak(site.as_dict())

    def collected(self, ref):
        try:
            if self.records.get(ref.key) is not ref:
                return  # released, or handed on: its record is gone
            del self.records[ref.key]
            site = ref.site
            state = getattr(ref, "state", None)
            if isinstance(state, _FileName):
                # Closed by hand unless CPython's warning about it came just now.
                unclosed, self.unclosed = self.unclosed, None
                if unclosed != state:
                    next(site.released)
                    return
            self.leaked(site)
        except Exception as e:  # a weakref callback must not raise
            self.fail(e)

    def finalizer(self, inherited):
        """The __del__ given to a watched class: a handle collected while still followed (not
        released) is a leak of its line. With release_leaked, it is then released, as the
        incident's finalizer gave leaked connections back to the pool."""
        owned, rt = self.owned, self

        def __del__(self):
            site = owned.pop(id(self), None)
            if site is not None:
                try:
                    rt.leaked(site)
                    if rt.release_leaked:
                        for name in rt.methods:
                            method = getattr(self, name, None)
                            if callable(method):
                                method()
                                break
                except Exception as e:  # a finalizer must not raise
                    rt.fail(e)
            if inherited is not None:
                inherited(self)

        __del__.__leakfix_wrapped__ = True
        return __del__

    def hear_unclosed_files(self):
        """CPython warns (ResourceWarning, ignored by default) when it collects a file still
        open, just before it clears the file's weak references: the warning is let through the
        filters and kept from the user, unless the user asked to see such warnings."""
        import warnings
        shown = any(f[0] in ("always", "default", "error", "module", "once") and issubclass(ResourceWarning, f[2])
                    for f in warnings.filters if f[2] is not Warning)
        warnings.filterwarnings("always", message="unclosed file", category=ResourceWarning)
        original = warnings.showwarning
        rt = self

        def showwarning(message, category, filename, lineno, file=None, line=None):
            text = str(message)
            if category is ResourceWarning and text.startswith("unclosed file"):
                start = text.find(" name=")
                if start >= 0:
                    end = text.find(" mode=", start)
                    rt.unclosed = _FileName(text[start + 6:end if end > 0 else None].rstrip(">"))
                if not shown:
                    return
            return original(message, category, filename, lineno, file, line)

        warnings.showwarning = showwarning
        self.patched.append((warnings, "showwarning", original))

    # ---- wrapping -------------------------------------------------------------------------

    def watch_type(self, cls):
        """Wraps the release methods of a handle's class (a Python class) so that a release is
        seen; False when there are none it can wrap (a C type: sqlite3.Connection, a file)."""
        ok = False
        if isinstance(getattr(cls, "__dict__", None), type(type.__dict__)) and cls.__module__ != "builtins":
            for name in self.methods:
                owner = next((k for k in cls.__mro__ if name in vars(k)), None)
                if owner is None or owner is object:
                    continue
                original = vars(owner)[name]
                if getattr(original, "__leakfix_wrapped__", False):
                    ok = True
                    continue
                try:
                    setattr(owner, name, self.release_method(original))
                    self.patched.append((owner, name, original))
                    ok = True
                except (TypeError, AttributeError):
                    pass
            inherited = getattr(cls, "__del__", None)
            if ok and not getattr(inherited, "__leakfix_wrapped__", False):
                try:
                    had = "__del__" in vars(cls)
                    cls.__del__ = self.finalizer(inherited)
                    self.patched.append((cls, "__del__", inherited if had else _REMOVE))
                except (TypeError, AttributeError):
                    ok = False
        self.watched_types[cls] = ok
        return ok

    def release_method(self, original):
        owned, released = self.owned, self.released

        @functools.wraps(original)
        def release(self, *args, **kwargs):
            site = owned.pop(id(self), None)  # released() inlined: this runs at every close()
            if site is not None:
                next(site.released)
            else:
                released(self)
            if args or kwargs:
                return original(self, *args, **kwargs)
            return original(self)

        release.__leakfix_wrapped__ = True
        return release

    def release_function(self, original, argument):
        rt = self

        @functools.wraps(original)
        def release(*args, **kwargs):
            if len(args) > argument:
                rt.released(args[argument])
            return original(*args, **kwargs)

        release.__leakfix_wrapped__ = True
        return release

    def acquirer(self, original, releasable, depth=1):
        rt = self
        getframe = sys._getframe
        owned, records, by_code, watched = self.owned, self.records, self.by_code, self.watched_types

        @functools.wraps(original)
        def acquire(*args, **kwargs):
            handle = original(*args, **kwargs) if args or kwargs else original()
            try:
                frame = getframe(depth)
                cls = type(handle)
                site = by_code.get((id(frame.f_code), frame.f_lasti))
                # The common case, acquired() inlined: a class whose close() is wrapped, at a line
                # seen before, nothing to keep for giving it back.
                if site is None or watched.get(cls) is not True or rt.slow:
                    rt.acquired(handle, frame, releasable)
                    return handle
                key = id(handle)
                if key in owned or key in records:
                    rt.hand_on(handle, key)
                owned[key] = site
                next(site.taken)
            except Exception as e:
                rt.fail(e)
            return handle

        acquire.__leakfix_wrapped__ = True
        return acquire

    def sqlite_connect(self, original):
        """sqlite3's connections are a C type: they are made of a subclass whose close() is seen."""
        import sqlite3

        class Connection(sqlite3.Connection):
            def close(self):  # wrapped by watch_type, as a Python class's is
                return super().close()

        wrapped = self.acquirer(original, True, depth=2)

        @functools.wraps(original)
        def connect(*args, **kwargs):
            if "factory" not in kwargs and len(args) < 6:
                kwargs["factory"] = Connection
            return wrapped(*args, **kwargs)

        connect.__leakfix_wrapped__ = True
        self.watch_type(Connection)
        return connect

    def replace(self, owner, name, make):
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if original is None or getattr(original, "__leakfix_wrapped__", False) or not callable(original):
            return
        if isinstance(original, (staticmethod, classmethod)):
            return
        try:
            setattr(owner, name, make(original))
            self.patched.append((owner, name, original))
        except (TypeError, AttributeError):
            pass

    def in_project(self, module):
        path = getattr(module, "__file__", None)
        if not path:
            return False
        path = os.path.realpath(path)
        return path.startswith(self.root) and "site-packages" not in path and "dist-packages" not in path

    def patch_module(self, module):
        """Wraps what the rules name in a module just imported (or already there at install())."""
        if self.failed:
            return
        try:
            name = module.__name__
            project = self.in_project(module)
            for spec in self.releases:
                call, argument = spec["call"], int(spec.get("argument", 0))
                if call.startswith("*."):
                    if project or name in _LIBRARY_POOLS:
                        self.patch_methods(module, call[2:], lambda f, a=argument: self.release_function(f, a + 1))
                elif "." in call:
                    mod, _, attr = call.rpartition(".")
                    if name == mod or (project and name.endswith("." + mod)):
                        self.replace(module, attr, lambda f, a=argument: self.release_function(f, a))
                elif project:
                    self.replace(module, call, lambda f, a=argument: self.release_function(f, a))
            for spec in self.acquirers:
                call = spec["call"]
                where = spec.get("module", "")
                cls = spec.get("class", "")
                # A handle whose release is a function call (pool.putconn(c)) is followed
                # even when its own close() cannot be wrapped (a C type).
                releasable = bool(spec.get("released_by_function")) and bool(self.releases)
                if where:
                    # A wrapper leakfix discovered: defined in that module of the project.
                    if project and (name == where or name.endswith("." + where)):
                        owner = getattr(module, cls, None) if cls else module
                        if owner is not None:
                            self.replace(owner, call, lambda f: self.acquirer(f, releasable))
                elif call.startswith("*."):
                    if project or name in _LIBRARY_POOLS:
                        self.patch_methods(module, call[2:], lambda f: self.acquirer(f, releasable))
                    if project:
                        self.replace(module, call[2:], lambda f: self.acquirer(f, releasable))
                elif "." in call:
                    mod, _, attr = call.rpartition(".")
                    if name == mod:
                        if call == "sqlite3.connect":
                            self.replace(module, attr, self.sqlite_connect)
                        else:
                            self.replace(module, attr, lambda f: self.acquirer(f, releasable))
                elif project:
                    self.replace(module, call, lambda f: self.acquirer(f, releasable))
        except Exception as e:
            self.fail(e)

    def patch_methods(self, module, method, make):
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == module.__name__ and method in vars(value):
                self.replace(value, method, make)

    # ---- reports --------------------------------------------------------------------------

    def snapshot(self):
        # A line whose every handle was handed on to a caller is not an acquiring line.
        sites = [d for d in (s.as_dict() for s in list(self.sites.values())) if d["acquired"] or d["leaked"] or d["open"]]
        return {"time": time.time(), "pid": os.getpid(), "sites": sites}


class _Loader(importlib.abc.Loader):
    """Runs a module's own loader, then wraps what the rules name in it."""

    def __init__(self, loader, runtime):
        self._loader = loader
        self._runtime = runtime

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._runtime.patch_module(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, runtime):
        self._runtime = runtime
        self._busy = threading.local()

    def find_spec(self, fullname, path, target=None):
        if getattr(self._busy, "on", False) or self._runtime.failed:
            return None
        self._busy.on = True
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = _Loader(spec.loader, self._runtime)
                    return spec
            return None
        except Exception:
            return None
        finally:
            self._busy.on = False


_runtime = None
_finder = None
_writer = None


def install(rules=None, root=None, out=None, interval=60.0, release_leaked=False, open_files=False, on_leak=None):
    """Starts counting. `rules`: a dict or the path of `leakfix runtime rules` output (default:
    the DB-API drivers and psycopg2's pools); `root`: the project's folder (default: the working
    directory), whose modules' functions the rules' bare names stand for; `out`: a file that gets
    a JSON line of the counts every `interval` seconds and at exit; `release_leaked`: close each
    handle collected while open, in its finalizer (Python classes only); `open_files`:
    count open() too; `on_leak(site)`: called at each leak. Returns nothing and never raises."""
    global _runtime, _finder, _writer
    try:
        if _runtime is not None:
            return
        if isinstance(rules, (str, os.PathLike)):
            with open(rules) as f:
                rules = json.load(f)
        rules = dict(rules or DEFAULT_RULES)
        if open_files:
            rules["acquirers"] = list(rules.get("acquirers", [])) + [{"call": "builtins.open"}]
        _runtime = _Runtime(rules, root or os.getcwd(), release_leaked, on_leak, open_files)
        for module in list(sys.modules.values()):
            if module is not None:
                _runtime.patch_module(module)
        _finder = _Finder(_runtime)
        sys.meta_path.insert(0, _finder)
        if out:
            _writer = _Writer(out, interval)
            _writer.start()
    except Exception as e:
        if _runtime is not None:
            _runtime.fail(e)
        else:
            sys.stderr.write(f"leakfix_runtime: not installed: {e!r}\n")


def uninstall():
    """Puts back what install() wrapped, writes the last line of counts and stops counting."""
    global _runtime, _finder, _writer
    if _writer is not None:
        _writer.stop()
        _writer = None
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None
    if _runtime is not None:
        for owner, name, original in reversed(_runtime.patched):
            try:
                if original is _REMOVE:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)
            except (TypeError, AttributeError):
                pass
    _runtime = None


def counts():
    """{"file:line": {file, line, function, text, acquired, open, leaked, last_leak, last_seen}}."""
    if _runtime is None:
        return {}
    return {f"{s['file']}:{s['line']}": s for s in _runtime.snapshot()["sites"]}


def _label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus():
    """The counts in Prometheus' text format: leakfix_leaked_total and leakfix_open_connections
    by site ("file:line") and function."""
    lines = ["# HELP leakfix_leaked_total Handles collected while still open, by the line that acquired them.",
             "# TYPE leakfix_leaked_total counter"]
    sites = counts()
    for key, s in sorted(sites.items()):
        lines.append(f'leakfix_leaked_total{{site="{_label(key)}",function="{_label(s["function"])}"}} {s["leaked"]}')
    lines += ["# HELP leakfix_open_connections Handles open now, by the line that acquired them.",
              "# TYPE leakfix_open_connections gauge"]
    for key, s in sorted(sites.items()):
        lines.append(f'leakfix_open_connections{{site="{_label(key)}",function="{_label(s["function"])}"}} {s["open"]}')
    return "\n".join(lines) + "\n"


def write_snapshot(path):
    """Appends one JSON line of the counts to `path`."""
    if _runtime is None:
        return
    try:
        line = json.dumps(_runtime.snapshot(), sort_keys=True)
        with open(path, "a") as f:
            f.write(line + "\n")
    except Exception as e:
        _runtime.fail(e)


class _Writer(threading.Thread):
    def __init__(self, path, interval):
        super().__init__(name="leakfix_runtime", daemon=True)
        self.path, self.interval = path, max(0.05, float(interval))
        self.stopped = threading.Event()
        import atexit
        atexit.register(self.stop)

    def run(self):
        while not self.stopped.wait(self.interval):
            write_snapshot(self.path)

    def stop(self):
        if not self.stopped.is_set():
            self.stopped.set()
            # At exit: handles held in reference cycles are collected (and counted) first.
            import gc
            gc.collect()
            write_snapshot(self.path)


def install_from_env():
    """install() with the arguments of the environment (see the module's documentation)."""
    env = os.environ
    if env.get("LEAKFIX_RUNTIME", "") in ("", "0"):
        return
    install(rules=env.get("LEAKFIX_RUNTIME_RULES") or None, out=env.get("LEAKFIX_RUNTIME_OUT") or None,
            interval=float(env.get("LEAKFIX_RUNTIME_INTERVAL", "60")), release_leaked=env.get("LEAKFIX_RUNTIME_RELEASE") == "1",
            open_files=env.get("LEAKFIX_RUNTIME_OPEN") == "1", root=env.get("LEAKFIX_RUNTIME_ROOT") or None)
