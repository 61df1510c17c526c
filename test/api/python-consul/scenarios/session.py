"""Sessions through python-consul 0.7: create (defaults; ttl, behavior, lock_delay, checks as the lowercase
{"name","ttl","behavior","lockdelay","checks"} body), info, node, list, renew (incl. an unknown session),
destroy, and what invalidation does to held locks.

Usage: /usr/bin/python3 session.py host:port
"""

import re
import time

import consul
from consul import Check
from _harness import Steps, assert_fields, check_index, raises, run, wait_for

steps = Steps()

SECOND_NS = 1_000_000_000
UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


def _passing_check(ctx, check_id):
    """A node-level TTL check marked passing and visible in the catalog, for sessions to bind to."""
    c = ctx.c
    assert c.agent.check.register(check_id, Check.ttl('300s'), check_id=check_id) is True
    assert c.agent.check.ttl_pass(check_id) is True
    wait_for(
        lambda: {k['CheckID']: k['Status'] for k in c.health.node(ctx.node)[1]}.get(check_id),
        lambda status: status == 'passing',
        f'{check_id} passing in the catalog',
    )


@steps.add
def create_with_defaults(ctx):
    c = ctx.c
    sid = c.session.create()
    assert isinstance(sid, str) and UUID.match(sid), f'session.create returns the ID string: {sid!r}'
    index, info = c.session.info(sid)
    check_index(index, 'session.info')
    assert_fields(
        info,
        {
            'ID': sid,
            'Name': '',
            'Node': ctx.node,
            'NodeChecks': ['serfHealth'],
            'LockDelay': 15 * SECOND_NS,
            'Behavior': 'release',
        },
        'session.info of a default session',
    )
    assert info.get('TTL', '') == '', f'no TTL by default: {info!r}'
    assert c.session.destroy(sid) is True


@steps.add
def create_with_ttl_behavior_lock_delay_and_checks(ctx):
    c = ctx.c
    _passing_check(ctx, 'sess-bind')
    sid = c.session.create(
        name='worker-lock', ttl=20, behavior='delete', lock_delay=5, checks=['serfHealth', 'sess-bind']
    )
    try:
        _, info = c.session.info(sid)
        assert_fields(
            info,
            {
                'ID': sid,
                'Name': 'worker-lock',
                'Node': ctx.node,
                'TTL': '20s',
                'Behavior': 'delete',
                'LockDelay': 5 * SECOND_NS,
            },
            'session.info of a configured session',
        )
        # Consul keeps the deprecated "checks" list as sent (and its default NodeChecks beside it).
        assert sorted(info.get('Checks') or []) == ['serfHealth', 'sess-bind'], f'Checks as sent: {info!r}'
        bound = set(info.get('Checks') or []) | set(info.get('NodeChecks') or [])
        assert bound == {'serfHealth', 'sess-bind'}, f'the session is bound to both checks: {info!r}'
    finally:
        assert c.session.destroy(sid) is True


@steps.add
def create_with_no_checks_and_zero_lock_delay(ctx):
    c = ctx.c
    sid = c.session.create(name='bare', checks=[], lock_delay=0)
    try:
        _, info = c.session.info(sid)
        # An explicitly empty "checks" also drops the default serfHealth from NodeChecks (Consul >= 1.7).
        assert_fields(info, {'NodeChecks': [], 'LockDelay': 0}, 'session.info with checks=[] and lock_delay=0')
        assert not info.get('Checks'), f'no deprecated Checks either: {info!r}'
    finally:
        c.session.destroy(sid)


@steps.add
def create_rejects_critical_or_missing_checks(ctx):
    c = ctx.c
    assert c.agent.check.register('sess-crit', Check.ttl('300s'), check_id='sess-crit') is True
    wait_for(
        lambda: {k['CheckID'] for k in c.health.node(ctx.node)[1]},
        lambda checks: 'sess-crit' in checks,
        'sess-crit in the catalog',
    )
    err = raises(consul.ConsulException, lambda: c.session.create(checks=['sess-crit']), 'critical check')
    assert str(err).startswith('500') and 'critical' in str(err), f'a critical check is refused with a 500: {err}'
    err = raises(consul.ConsulException, lambda: c.session.create(checks=['no-such-check']), 'missing check')
    assert str(err).startswith('500') and 'no-such-check' in str(err), f'a missing check is refused: {err}'
    assert c.agent.check.deregister('sess-crit') is True


@steps.add
def critical_bound_check_invalidates_the_session(ctx):
    c = ctx.c
    _passing_check(ctx, 'sess-watch')
    sid = c.session.create(name='bound', checks=['serfHealth', 'sess-watch'], lock_delay=0)
    assert c.kv.put('sess/bound-lock', 'held', acquire=sid) is True
    assert c.agent.check.ttl_fail('sess-watch') is True
    wait_for(lambda: c.session.info(sid)[1], lambda info: info is None, 'the session to be invalidated')
    _, item = c.kv.get('sess/bound-lock')
    assert item is not None and item.get('Session') is None, f'release behavior frees the lock: {item!r}'
    assert c.agent.check.deregister('sess-watch') is True


@steps.add
def list_and_node(ctx):
    c = ctx.c
    index0, _ = c.session.list()
    sid = c.session.create(name='listed')
    try:
        index, sessions = c.session.list()
        assert check_index(index, 'session.list') > int(index0), 'the index must grow after a create'
        assert sid in [s['ID'] for s in sessions], f'session.list includes the new session: {sessions!r}'
        index, sessions = c.session.node(ctx.node)
        check_index(index, 'session.node')
        assert sid in [s['ID'] for s in sessions], f'session.node includes it: {sessions!r}'
        assert all(s['Node'] == ctx.node for s in sessions), f'session.node filters by node: {sessions!r}'
        index, sessions = c.session.node('no-such-node')
        check_index(index, 'session.node of an unknown node')
        assert sessions == [], f'no sessions on an unknown node: {sessions!r}'
    finally:
        c.session.destroy(sid)


@steps.add
def renew(ctx):
    c = ctx.c
    sid = c.session.create(name='renewed', ttl=15)
    try:
        renewed = c.session.renew(sid)
        assert isinstance(renewed, dict), f'session.renew returns the session (first of the list): {renewed!r}'
        assert_fields(renewed, {'ID': sid, 'Name': 'renewed', 'TTL': '15s'}, 'session.renew')
    finally:
        c.session.destroy(sid)
    plain = c.session.create(name='no-ttl')
    try:
        assert c.session.renew(plain)['ID'] == plain, 'a session without TTL can be renewed too'
    finally:
        c.session.destroy(plain)


@steps.add
def renew_of_unknown_session_raises_not_found(ctx):
    # python-consul renews with allow_404=False, so Consul's 404 surfaces as consul.NotFound.
    bogus = '00000000-0000-4000-8000-000000000000'
    err = raises(consul.NotFound, lambda: ctx.c.session.renew(bogus), 'renew of an unknown session')
    assert bogus in str(err), f"Consul's message names the session: {err}"


@steps.add
def info_of_unknown_session_is_none(ctx):
    index, info = ctx.c.session.info('00000000-0000-4000-8000-000000000000')
    check_index(index, 'session.info of an unknown session')
    assert info is None, f'Consul answers [] and python-consul turns it into None: {info!r}'


@steps.add
def destroy_is_idempotent(ctx):
    c = ctx.c
    sid = c.session.create(name='doomed')
    assert c.session.destroy(sid) is True
    assert c.session.info(sid)[1] is None, 'destroyed session still has info'
    assert sid not in [s['ID'] for s in c.session.list()[1]], 'destroyed session still listed'
    assert c.session.destroy(sid) is True, 'destroying it again still returns True'


@steps.add
def destroy_with_release_behavior_keeps_the_key(ctx):
    c = ctx.c
    sid = c.session.create(name='releaser', behavior='release', lock_delay=0)
    assert c.kv.put('sess/release', 'kept', acquire=sid) is True
    assert c.session.destroy(sid) is True
    _, item = c.kv.get('sess/release')
    assert item is not None, 'release behavior must keep the key'
    assert item.get('Session') is None and item['Value'] == b'kept', f'lock released, value kept: {item!r}'
    assert item['LockIndex'] == 1, f'LockIndex stays: {item!r}'


@steps.add
def destroy_with_delete_behavior_deletes_the_key(ctx):
    c = ctx.c
    sid = c.session.create(name='deleter', behavior='delete', lock_delay=0)
    assert c.kv.put('sess/ephemeral', 'temp', acquire=sid) is True
    assert c.kv.put('sess/ephemeral-neighbour', 'stays') is True
    assert c.session.destroy(sid) is True
    assert c.kv.get('sess/ephemeral')[1] is None, 'delete behavior must delete the held key'
    assert c.kv.get('sess/ephemeral-neighbour')[1] is not None, 'keys not held by the session stay'


@steps.add
def lock_delay_blocks_reacquire_after_invalidation(ctx):
    c = ctx.c
    holder = c.session.create(name='delayed', lock_delay=2)
    other = c.session.create(name='waiting', lock_delay=0)
    try:
        assert c.kv.put('sess/delayed', 'one', acquire=holder) is True
        assert c.session.destroy(holder) is True
        destroyed = time.monotonic()
        assert c.kv.put('sess/delayed', 'two', acquire=other) is False, 'acquire within the lock delay must fail'
        wait_for(
            lambda: c.kv.put('sess/delayed', 'two', acquire=other),
            lambda ok: ok is True,
            'the lock delay to pass',
            interval=0.1,
        )
        waited = time.monotonic() - destroyed
        assert waited >= 1.5, f'the 2s lock delay ended after only {waited:.2f}s'
        _, item = c.kv.get('sess/delayed')
        assert item['Session'] == other and item['Value'] == b'two', f'acquired after the delay: {item!r}'
    finally:
        c.session.destroy(other)


def clear_keys(ctx):
    assert ctx.c.kv.delete('sess/', recurse=True) is True


if __name__ == '__main__':
    run('session', steps, setup=clear_keys)
