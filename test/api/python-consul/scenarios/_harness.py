"""Shared runner for the python-consul scenarios; imported by them, not a scenario itself.

Each scenario expects a fresh dev agent (the driver starts one per scenario) and is a list of independent
steps. Every step runs even when an earlier one fails, failures go to stderr with their traceback, and the last
stdout line is a JSON summary. The exit status is 1 when any step failed.
"""

import json
import os
import sys
import time
import traceback

# python-consul lets CONSUL_HTTP_ADDR / CONSUL_HTTP_TOKEN / CONSUL_HTTP_SSL override what the scenario passes.
for _name in [n for n in os.environ if n.startswith('CONSUL_HTTP_')]:
    del os.environ[_name]

import consul  # noqa: E402  (Debian's python3-consul, importable by /usr/bin/python3 only)

if not __debug__:
    sys.exit('run the scenarios without -O: their checks are assert statements')

# With ACLs disabled Consul accepts any token; python-consul sends it as ?token= (and catalog writes also put
# it in the body as WriteRequest.Token).
TOKEN = 'python-consul-scenario-token'


class Context:
    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.c = consul.Consul(host=host, port=port)
        self.ct = consul.Consul(host=host, port=port, token=TOKEN)
        config = self.c.agent.self()['Config']
        self.node = config['NodeName']
        self.dc = config['Datacenter']

    def client(self, **kwargs):
        """A fresh client (requests sessions are not thread-safe, so each thread gets its own)."""
        return consul.Consul(host=self.host, port=self.port, **kwargs)


class Steps(list):
    def add(self, fn):
        self.append(fn)
        return fn


def check_index(index, what):
    """python-consul returns X-Consul-Index as the header's string; it must be a positive integer."""
    assert isinstance(index, str) and index != '', f'{what}: index must be a non-empty string, got {index!r}'
    assert index.isdigit() and int(index) >= 1, f'{what}: index must be a positive integer, got {index!r}'
    return int(index)


def wait_for(fetch, accept, what, timeout=10.0, interval=0.05):
    """Polls fetch() until accept(result) holds; fails with the last result after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if accept(result):
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f'timed out after {timeout}s waiting for {what}; last result: {result!r:.2000}')
        time.sleep(interval)


def raises(exc_type, fn, what):
    """Calls fn(), asserts it raises exactly exc_type, and returns the exception."""
    try:
        result = fn()
    except Exception as err:  # noqa: BLE001
        assert type(err) is exc_type, f'{what}: expected {exc_type.__name__}, got {type(err).__name__}: {err}'
        return err
    raise AssertionError(f'{what}: expected {exc_type.__name__}, but it returned {result!r}')


def assert_fields(obj, expected, what):
    """Compares several fields at once, so a failure lists every mismatch rather than the first."""
    assert isinstance(obj, dict), f'{what}: expected an object, got {obj!r}'
    wrong = {
        field: (obj.get(field, '<missing>'), value) for field, value in expected.items() if obj.get(field) != value
    }
    assert not wrong, f'{what}: fields (got, want) {wrong!r} in {obj!r}'


def ids(items, field):
    return sorted(item[field] for item in items)


def run(name, steps, setup=None):
    """Runs every step; `setup(ctx)` first clears what an earlier run against the same agent left behind."""
    if len(sys.argv) != 2 or ':' not in sys.argv[1]:
        sys.exit(f'usage: {sys.argv[0]} host:port')
    host, port = sys.argv[1].rsplit(':', 1)
    ctx = Context(host, int(port))
    if setup is not None:
        setup(ctx)
    passed, failed = [], []
    for step in steps:
        started = time.monotonic()
        try:
            step(ctx)
        except Exception:  # noqa: BLE001
            failed.append(step.__name__)
            print(f'--- {name}/{step.__name__} FAILED after {time.monotonic() - started:.2f}s', file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            print(file=sys.stderr)
        else:
            passed.append(step.__name__)
    summary = {
        'scenario': name,
        'python_consul': consul.__version__,
        'steps': len(steps),
        'passed': passed,
        'failed': failed,
    }
    print(json.dumps(summary), flush=True)
    sys.exit(1 if failed else 0)
