"""Agent through python-consul 0.7: self, members, services, checks, service register (lowercase keys, TTL
check), check register / ttl_pass / ttl_warn / ttl_fail / deregister, node and service maintenance.

python-consul 0.7 sends GET to /v1/agent/check/{pass,warn,fail,deregister}/ and /v1/agent/service/deregister/.
Consul 1.x registers those as PUT-only (a GET gets 405, which CB.bool reports as False); Tribune accepts GET as
well so that this client keeps working, and these steps assert that it does.

Usage: /usr/bin/python3 agent.py host:port
"""

from consul import Check
import logging

from _harness import Steps, assert_fields, run, wait_for

steps = Steps()

# Consul's notes for maintenance checks registered without a reason (agent/agent.go).
DEFAULT_NODE_MAINT_REASON = (
    'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.'
)
DEFAULT_SERVICE_MAINT_REASON = (
    'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.'
)


def _catalog_checks(c, node):
    _, checks = c.health.node(node)
    return {k['CheckID']: k for k in checks}


@steps.add
def self_describes_the_agent(ctx):
    me = ctx.c.agent.self()
    assert isinstance(me, dict) and {'Config', 'Member'} <= set(me), f'agent.self shape: {sorted(me)!r}'
    assert me['Config']['NodeName'] == ctx.node, f'Config.NodeName: {me["Config"]!r}'
    assert me['Config']['Datacenter'] == ctx.dc, f'Config.Datacenter: {me["Config"]!r}'
    assert me['Member']['Name'] == ctx.node, f'Member.Name: {me["Member"]!r}'


@steps.add
def members_list_the_agent_alive(ctx):
    members = ctx.c.agent.members()
    assert isinstance(members, list), f'agent.members is a list: {members!r}'
    mine = [m for m in members if m['Name'] == ctx.node]
    assert len(mine) == 1, f'the agent is a member: {members!r}'
    assert mine[0]['Status'] == 1, f'Status 1 = alive: {mine[0]!r}'
    assert mine[0]['Addr'] and isinstance(mine[0]['Port'], int), f'Addr and Port: {mine[0]!r}'
    assert mine[0]['Tags'].get('dc') == ctx.dc, f'member dc tag: {mine[0]!r}'


@steps.add
def service_register_with_ttl_check(ctx):
    c = ctx.c
    # python-consul sends {"name", "id", "address", "port", "tags", "enabletagoverride", "check": {"ttl"}}.
    ok = c.agent.service.register(
        'asvc',
        service_id='asvc-1',
        address='127.0.0.5',
        port=9000,
        tags=['a', 'b'],
        check=Check.ttl('300s'),
        enable_tag_override=True,
    )
    assert ok is True, 'agent.service.register should return True'
    services = c.agent.services()
    assert 'asvc-1' in services, f'agent.services is keyed by ID: {services!r}'
    svc = services['asvc-1']
    expected = {'ID': 'asvc-1', 'Service': 'asvc', 'Tags': ['a', 'b'], 'Port': 9000, 'Address': '127.0.0.5'}
    assert_fields(svc, expected, 'agent.services()["asvc-1"]')
    assert svc.get('EnableTagOverride') is True, f'lowercase "enabletagoverride" is honoured: {svc!r}'

    checks = c.agent.checks()
    check = checks.get('service:asvc-1')
    assert check is not None, f'the service check gets the ID service:<id>: {checks!r}'
    expected = {
        'Name': "Service 'asvc' check",
        'Status': 'critical',
        'ServiceID': 'asvc-1',
        'ServiceName': 'asvc',
        'Node': ctx.node,
    }
    assert_fields(check, expected, 'agent.checks()["service:asvc-1"]')

    _, entries = wait_for(lambda: c.catalog.service('asvc'), lambda r: len(r[1]) == 1, 'asvc in the catalog')
    entry = entries[0]
    assert (entry['ServiceID'], entry['ServicePort'], entry['ServiceAddress'], entry['Node']) == (
        'asvc-1',
        9000,
        '127.0.0.5',
        ctx.node,
    ), f'catalog entry of the agent service: {entry!r}'


@steps.add
def service_register_deprecated_ttl_argument(ctx):
    c = ctx.c
    # The deprecated ttl= argument builds the same {"check": {"ttl": ...}} body; the ID defaults to the name.
    # python-consul logs a deprecation warning for it, which would only clutter stderr.
    logging.getLogger('consul').setLevel(logging.ERROR)
    try:
        assert c.agent.service.register('asvc-old', ttl='300s') is True
    finally:
        logging.getLogger('consul').setLevel(logging.NOTSET)
    assert c.agent.services().get('asvc-old', {}).get('Service') == 'asvc-old', 'ID defaults to the name'
    assert c.agent.checks().get('service:asvc-old', {}).get('Status') == 'critical', 'the TTL check exists'


@steps.add
def service_deregister(ctx):
    c = ctx.c
    assert c.agent.service.register('adel', service_id='adel-1', port=1, check=Check.ttl('300s')) is True
    wait_for(lambda: c.catalog.service('adel'), lambda r: len(r[1]) == 1, 'adel in the catalog')
    assert c.agent.service.deregister('adel-1') is True, 'deregister (python-consul sends GET)'
    assert 'adel-1' not in c.agent.services(), 'service still in agent.services'
    assert 'service:adel-1' not in c.agent.checks(), "the service's check goes with it"
    wait_for(lambda: c.catalog.service('adel'), lambda r: r[1] == [], 'adel to leave the catalog')
    assert c.agent.service.deregister('adel-1') is False, 'deregistering an unknown service is a 404 (False)'


@steps.add
def check_register_and_ttl_updates(ctx):
    c = ctx.c
    ok = c.agent.check.register('mem', Check.ttl('300s'), check_id='mem-1', notes='memory watchdog')
    assert ok is True, 'agent.check.register should return True'
    check = c.agent.checks().get('mem-1')
    assert check is not None, f'check registered under its id: {c.agent.checks()!r}'
    assert (check['Name'], check['Notes'], check['Status'], check['ServiceID']) == (
        'mem',
        'memory watchdog',
        'critical',
        '',
    ), f'registered check: {check!r}'

    for update, status, note in (
        (c.agent.check.ttl_pass, 'passing', 'all good'),
        (c.agent.check.ttl_warn, 'warning', 'getting full'),
        (c.agent.check.ttl_fail, 'critical', 'out of memory'),
        (c.agent.check.ttl_pass, 'passing', None),
    ):
        assert update('mem-1', notes=note) is True, f'{update.__name__} should return True'
        check = c.agent.checks()['mem-1']
        assert check['Status'] == status, f'{update.__name__}: Status should be {status}: {check!r}'
        assert check['Output'] == (note or ''), f'{update.__name__}: the note becomes Output: {check!r}'
        wait_for(
            lambda: _catalog_checks(c, ctx.node).get('mem-1', {}).get('Status'),
            lambda s, status=status: s == status,
            f'mem-1 {status} in the catalog',
        )


@steps.add
def check_register_without_id_uses_the_name(ctx):
    c = ctx.c
    assert c.agent.check.register('disk', Check.ttl('300s')) is True
    assert c.agent.checks().get('disk', {}).get('Name') == 'disk', 'CheckID defaults to the name'
    assert c.agent.check.deregister('disk') is True


@steps.add
def check_register_for_a_service(ctx):
    c = ctx.c
    assert c.agent.service.register('achk', service_id='achk-1', port=2) is True
    ok = c.agent.check.register('achk extra', Check.ttl('300s'), check_id='achk-extra', service_id='achk-1')
    assert ok is True, 'check register with "serviceid"'
    check = c.agent.checks().get('achk-extra')
    assert check is not None and check['ServiceID'] == 'achk-1', f'service check: {check!r}'
    assert check['ServiceName'] == 'achk', f'ServiceName filled from the service: {check!r}'
    _, checks = wait_for(lambda: c.health.checks('achk'), lambda r: len(r[1]) == 1, 'achk-extra in health.checks')
    assert checks[0]['CheckID'] == 'achk-extra', f'health.checks achk: {checks!r}'


@steps.add
def check_register_for_an_unknown_service(ctx):
    # Consul: 404 "ServiceID ... does not exist", which python-consul's CB.bool turns into False.
    ok = ctx.c.agent.check.register('orphan', Check.ttl('300s'), check_id='orphan', service_id='no-such-service')
    assert ok is False, f'registering a check for an unknown service should return False (404), got {ok!r}'
    assert 'orphan' not in ctx.c.agent.checks()


@steps.add
def ttl_update_and_deregister_of_unknown_checks(ctx):
    c = ctx.c
    for update in (c.agent.check.ttl_pass, c.agent.check.ttl_warn, c.agent.check.ttl_fail):
        assert update('no-such-check') is False, f'{update.__name__} of an unknown check is a 404 (False)'
    assert c.agent.check.deregister('no-such-check') is False, 'deregister of an unknown check is a 404 (False)'


@steps.add
def check_deregister(ctx):
    c = ctx.c
    assert c.agent.check.register('gone', Check.ttl('300s'), check_id='gone-1') is True
    wait_for(lambda: _catalog_checks(c, ctx.node), lambda k: 'gone-1' in k, 'gone-1 in the catalog')
    assert c.agent.check.deregister('gone-1') is True, 'deregister (python-consul sends GET)'
    assert 'gone-1' not in c.agent.checks(), 'check still in agent.checks'
    wait_for(lambda: _catalog_checks(c, ctx.node), lambda k: 'gone-1' not in k, 'gone-1 to leave the catalog')


@steps.add
def ttl_expiry_turns_the_check_critical(ctx):
    c = ctx.c
    assert c.agent.check.register('short', Check.ttl('1s'), check_id='short-1') is True
    assert c.agent.check.ttl_pass('short-1', notes='alive') is True
    assert c.agent.checks()['short-1']['Status'] == 'passing'
    check = wait_for(
        lambda: c.agent.checks()['short-1'], lambda k: k['Status'] == 'critical', 'the 1s TTL to expire', timeout=10
    )
    assert check['Output'].startswith('TTL expired'), f'Output after expiry: {check!r}'
    assert c.agent.check.deregister('short-1') is True


@steps.add
def node_maintenance(ctx):
    c = ctx.c
    assert c.agent.service.register('amaint', service_id='amaint-1', port=3, check=Check.ttl('300s')) is True
    assert c.agent.check.ttl_pass('service:amaint-1') is True
    wait_for(lambda: c.health.service('amaint', passing=True), lambda r: len(r[1]) == 1, 'amaint passing')
    try:
        assert c.agent.maintenance('true', 'kernel upgrade') is True, 'agent.maintenance enable'
        assert '_node_maintenance' in c.agent.checks(), f'node maintenance adds _node_maintenance: {c.agent.checks()!r}'
        wait_for(lambda: _catalog_checks(c, ctx.node), lambda k: '_node_maintenance' in k, 'catalog maintenance')
        wait_for(
            lambda: c.health.service('amaint', passing=True),
            lambda r: r[1] == [],
            'node maintenance to hide amaint from ?passing',
        )
        assert_fields(
            c.agent.checks()['_node_maintenance'],
            {'Name': 'Node Maintenance Mode', 'Status': 'critical', 'Notes': 'kernel upgrade', 'ServiceID': ''},
            '_node_maintenance',
        )
        _, critical = c.health.state('critical')
        assert '_node_maintenance' in {k['CheckID'] for k in critical}, f'health.state critical: {critical!r}'
    finally:
        assert c.agent.maintenance('false') is True, 'agent.maintenance disable'
    assert '_node_maintenance' not in c.agent.checks(), 'disable removes the check'
    wait_for(lambda: _catalog_checks(c, ctx.node), lambda k: '_node_maintenance' not in k, 'catalog cleared')
    wait_for(lambda: c.health.service('amaint', passing=True), lambda r: len(r[1]) == 1, 'amaint passing again')


@steps.add
def node_maintenance_default_reason(ctx):
    c = ctx.c
    try:
        assert c.agent.maintenance('true') is True
        check = c.agent.checks().get('_node_maintenance', {})
        assert check.get('Notes') == DEFAULT_NODE_MAINT_REASON, f"Consul's default node reason: {check!r}"
    finally:
        assert c.agent.maintenance('false') is True


@steps.add
def service_maintenance(ctx):
    c = ctx.c
    assert c.agent.service.register('smaint', service_id='smaint-1', port=4, check=Check.ttl('300s')) is True
    assert c.agent.service.register('smaint', service_id='smaint-2', port=5, check=Check.ttl('300s')) is True
    assert c.agent.check.ttl_pass('service:smaint-1') is True
    assert c.agent.check.ttl_pass('service:smaint-2') is True
    wait_for(lambda: c.health.service('smaint', passing=True), lambda r: len(r[1]) == 2, 'both smaint passing')
    check_id = '_service_maintenance:smaint-1'
    try:
        assert c.agent.service.maintenance('smaint-1', 'true', 'draining') is True, 'service maintenance enable'
        assert check_id in c.agent.checks(), f'service maintenance adds {check_id}: {c.agent.checks()!r}'
        _, passing = wait_for(
            lambda: c.health.service('smaint', passing=True),
            lambda r: len(r[1]) == 1,
            'smaint-1 to leave ?passing',
        )
        assert passing[0]['Service']['ID'] == 'smaint-2', f'only smaint-2 passes: {passing!r}'
        expected = {
            'Name': 'Service Maintenance Mode',
            'Status': 'critical',
            'Notes': 'draining',
            'ServiceID': 'smaint-1',
            'ServiceName': 'smaint',
        }
        assert_fields(c.agent.checks()[check_id], expected, check_id)
    finally:
        assert c.agent.service.maintenance('smaint-1', 'false') is True, 'service maintenance disable'
    assert check_id not in c.agent.checks(), 'disable removes the check'
    wait_for(lambda: c.health.service('smaint', passing=True), lambda r: len(r[1]) == 2, 'both smaint passing again')


@steps.add
def service_maintenance_default_reason(ctx):
    c = ctx.c
    assert c.agent.service.register('sdef', service_id='sdef-1', port=7, check=Check.ttl('300s')) is True
    try:
        assert c.agent.service.maintenance('sdef-1', 'true') is True
        check = c.agent.checks().get('_service_maintenance:sdef-1', {})
        assert check.get('Notes') == DEFAULT_SERVICE_MAINT_REASON, f"Consul's default service reason: {check!r}"
    finally:
        assert c.agent.service.maintenance('sdef-1', 'false') is True


@steps.add
def service_maintenance_of_unknown_service(ctx):
    ok = ctx.c.agent.service.maintenance('no-such-service', 'true')
    assert ok is False, f'maintenance of an unknown service is a 404 (False), got {ok!r}'


@steps.add
def token_is_passed_through(ctx):
    ct = ctx.ct
    assert ct.agent.service.register('atoken', service_id='atoken-1', port=6, check=Check.ttl('300s')) is True
    assert ct.agent.check.register('atoken check', Check.ttl('300s'), check_id='atoken-chk') is True
    assert 'atoken-1' in ct.agent.services() and 'atoken-chk' in ct.agent.checks()
    assert ct.agent.check.ttl_pass('atoken-chk') is True
    assert ct.agent.check.deregister('atoken-chk') is True
    assert ct.agent.service.deregister('atoken-1') is True


if __name__ == '__main__':
    run('agent', steps)
