"""Health through python-consul 0.7: service (passing, tag), checks, node, state, blocking on a check change.

Agent services with TTL checks drive the statuses (python-consul marks them with GET /v1/agent/check/*); the
agent syncs them into the catalog, so reads poll with a deadline.

Usage: /usr/bin/python3 health.py host:port
"""

import threading
import time

from consul import Check
from _harness import Steps, assert_fields, check_index, ids, run, wait_for

steps = Steps()


def _register(c, name, service_id, tags, port):
    assert c.agent.service.register(name, service_id=service_id, port=port, tags=tags, check=Check.ttl('300s')), (
        f'agent.service.register {service_id}'
    )


def _statuses(c, service):
    _, checks = c.health.checks(service)
    return {k['CheckID']: k['Status'] for k in checks}


def _wait_status(c, service, check_id, status):
    wait_for(lambda: _statuses(c, service), lambda s: s.get(check_id) == status, f'{check_id} to be {status}')


@steps.add
def service_entries_and_passing_filter(ctx):
    c = ctx.c
    _register(c, 'hweb', 'hweb-1', ['blue'], 8001)
    _register(c, 'hweb', 'hweb-2', ['green'], 8002)
    index, entries = wait_for(
        lambda: c.health.service('hweb'), lambda r: len(r[1]) == 2, 'both hweb instances in health.service'
    )
    check_index(index, 'health.service')
    for entry in entries:
        assert set(entry) >= {'Node', 'Service', 'Checks'}, f'health entry shape: {entry!r}'
        assert entry['Node']['Node'] == ctx.node, f'Node is the agent node: {entry!r}'
        sid = entry['Service']['ID']
        assert entry['Service']['Service'] == 'hweb', f'Service: {entry!r}'
        check_ids = {k['CheckID'] for k in entry['Checks']}
        assert {'serfHealth', f'service:{sid}'} <= check_ids, f'entry has the node and its own checks: {entry!r}'
        assert all(k['ServiceID'] in ('', sid) for k in entry['Checks']), f'no other service checks: {entry!r}'
    assert sorted((e['Service']['ID'], e['Service']['Port']) for e in entries) == [('hweb-1', 8001), ('hweb-2', 8002)]

    # A new TTL check starts critical, so nothing passes yet.
    _, passing = c.health.service('hweb', passing=True)
    assert passing == [], f'critical instances are filtered out with passing: {passing!r}'

    assert c.agent.check.ttl_pass('service:hweb-1') is True
    _, passing = wait_for(
        lambda: c.health.service('hweb', passing=True),
        lambda r: len(r[1]) == 1,
        'hweb-1 to pass',
    )
    assert [e['Service']['ID'] for e in passing] == ['hweb-1'], f'passing: {passing!r}'

    assert c.agent.check.ttl_warn('service:hweb-2') is True
    _wait_status(c, 'hweb', 'service:hweb-2', 'warning')
    _, passing = c.health.service('hweb', passing=True)
    assert [e['Service']['ID'] for e in passing] == ['hweb-1'], f'a warning instance is not passing: {passing!r}'
    _, everything = c.health.service('hweb')
    assert len(everything) == 2, f'without passing every instance is listed: {everything!r}'


@steps.add
def service_tag_filter(ctx):
    c = ctx.c
    _register(c, 'htag', 'htag-1', ['blue', 'canary'], 8101)
    _register(c, 'htag', 'htag-2', ['green'], 8102)
    wait_for(lambda: c.health.service('htag'), lambda r: len(r[1]) == 2, 'both htag instances')
    _, entries = c.health.service('htag', tag='green')
    assert [e['Service']['ID'] for e in entries] == ['htag-2'], f'tag=green: {entries!r}'
    _, entries = c.health.service('htag', tag='canary')
    assert [e['Service']['ID'] for e in entries] == ['htag-1'], f'tag=canary: {entries!r}'
    _, entries = c.health.service('htag', tag='missing')
    assert entries == [], f'unknown tag: {entries!r}'

    assert c.agent.check.ttl_pass('service:htag-2') is True
    _wait_status(c, 'htag', 'service:htag-2', 'passing')
    _, entries = c.health.service('htag', tag='green', passing=True)
    assert [e['Service']['ID'] for e in entries] == ['htag-2'], f'tag=green&passing: {entries!r}'
    _, entries = c.health.service('htag', tag='blue', passing=True)
    assert entries == [], f'tag=blue&passing (htag-1 is critical): {entries!r}'


@steps.add
def failing_node_check_hides_every_instance_from_passing(ctx):
    c = ctx.c
    _register(c, 'hnode', 'hnode-1', [], 8201)
    assert c.agent.check.ttl_pass('service:hnode-1') is True
    wait_for(lambda: c.health.service('hnode', passing=True), lambda r: len(r[1]) == 1, 'hnode-1 to pass')
    assert c.agent.check.register('node-level-ttl', Check.ttl('300s'), check_id='node-level-ttl') is True
    try:
        _, entries = wait_for(
            lambda: c.health.service('hnode', passing=True),
            lambda r: r[1] == [],
            'a critical node-level check to hide hnode-1 from ?passing',
        )
        _, entries = c.health.service('hnode')
        assert 'node-level-ttl' in ids(entries[0]['Checks'], 'CheckID'), f'node checks are in the entry: {entries!r}'
    finally:
        assert c.agent.check.deregister('node-level-ttl') is True
    wait_for(lambda: c.health.service('hnode', passing=True), lambda r: len(r[1]) == 1, 'hnode-1 passing again')


@steps.add
def checks_for_a_service(ctx):
    c = ctx.c
    _register(c, 'hchk', 'hchk-1', ['a'], 8301)
    index, checks = wait_for(lambda: c.health.checks('hchk'), lambda r: len(r[1]) == 1, 'the hchk check')
    check_index(index, 'health.checks')
    check = checks[0]
    expected = {
        'Node': ctx.node,
        'CheckID': 'service:hchk-1',
        'Name': "Service 'hchk' check",
        'Status': 'critical',
        'ServiceID': 'hchk-1',
        'ServiceName': 'hchk',
    }
    assert_fields(check, expected, 'health.checks("hchk")[0]')
    index, none = c.health.checks('no-such-service')
    check_index(index, 'health.checks of an unknown service')
    assert none == [], f'unknown service has no checks: {none!r}'


@steps.add
def node_checks(ctx):
    c = ctx.c
    index, checks = c.health.node(ctx.node)
    check_index(index, 'health.node')
    serf = [k for k in checks if k['CheckID'] == 'serfHealth']
    assert len(serf) == 1, f'the agent node has a serfHealth check: {checks!r}'
    assert serf[0]['Status'] == 'passing' and serf[0]['Name'] == 'Serf Health Status', f'serfHealth: {serf!r}'
    assert serf[0]['ServiceID'] == '', f'serfHealth is a node check: {serf!r}'
    index, none = c.health.node('no-such-node')
    check_index(index, 'health.node of an unknown node')
    assert none == [], f'unknown node has no checks: {none!r}'


@steps.add
def checks_by_state(ctx):
    c = ctx.c
    _register(c, 'hstate', 'hstate-pass', [], 8401)
    _register(c, 'hstate', 'hstate-warn', [], 8402)
    _register(c, 'hstate', 'hstate-crit', [], 8403)
    assert c.agent.check.ttl_pass('service:hstate-pass') is True
    assert c.agent.check.ttl_warn('service:hstate-warn') is True
    assert c.agent.check.ttl_fail('service:hstate-crit') is True
    wait_for(
        lambda: _statuses(c, 'hstate'),
        lambda s: s
        == {'service:hstate-pass': 'passing', 'service:hstate-warn': 'warning', 'service:hstate-crit': 'critical'},
        'hstate checks in three states',
    )
    seen = {}
    for state in ('passing', 'warning', 'critical', 'any'):
        index, checks = c.health.state(state)
        check_index(index, f'health.state {state}')
        seen[state] = {k['CheckID'] for k in checks}
        if state != 'any':
            assert all(k['Status'] == state for k in checks), f'health.state {state} returned others: {checks!r}'
    assert {'serfHealth', 'service:hstate-pass'} <= seen['passing'], f'passing: {seen["passing"]!r}'
    assert 'service:hstate-warn' in seen['warning'], f'warning: {seen["warning"]!r}'
    assert 'service:hstate-crit' in seen['critical'], f'critical: {seen["critical"]!r}'
    assert seen['any'] == seen['passing'] | seen['warning'] | seen['critical'], f'any is the union: {seen!r}'


@steps.add
def blocking_health_service_wakes_on_check_change(ctx):
    c = ctx.c
    _register(c, 'hblock', 'hblock-1', [], 8501)
    index, entries = wait_for(lambda: c.health.service('hblock'), lambda r: len(r[1]) == 1, 'hblock in the catalog')
    errors = []

    def mark_passing():
        try:
            ctx.client().agent.check.ttl_pass('service:hblock-1')
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    timer = threading.Timer(0.5, mark_passing)
    timer.start()
    started = time.monotonic()
    try:
        # Retry on an index that moved for an unrelated reason, as a watcher would.
        while True:
            new_index, entries = c.health.service('hblock', index=index, wait='30s')
            status = {k['CheckID']: k['Status'] for k in entries[0]['Checks']}.get('service:hblock-1')
            if status == 'passing' or time.monotonic() - started > 15:
                break
            index = new_index
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert not errors, f'the ttl_pass thread failed: {errors!r}'
    assert status == 'passing', f'the blocking health.service should return the passing check: {entries!r}'
    assert 0.4 <= elapsed < 10, f'blocking health.service returned after {elapsed:.2f}s'
    assert int(new_index) > int(index), f'index should grow past {index}: {new_index}'


@steps.add
def token_is_passed_through(ctx):
    ct = ctx.ct
    _register(ct, 'htoken', 'htoken-1', ['t'], 8601)
    index, entries = wait_for(lambda: ct.health.service('htoken', tag='t'), lambda r: len(r[1]) == 1, 'htoken')
    check_index(index, 'health.service with token')
    for call, arg in ((ct.health.checks, 'htoken'), (ct.health.node, ctx.node), (ct.health.state, 'any')):
        index, data = call(arg)
        check_index(index, f'health.{call.__name__} with token')
        assert isinstance(data, list) and data, f'health.{call.__name__} with token: {data!r}'


if __name__ == '__main__':
    run('health', steps)
