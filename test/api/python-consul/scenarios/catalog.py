"""Catalog through python-consul 0.7: register/deregister (lowercase body keys), datacenters, nodes, services,
service (with tag), node.

Usage: /usr/bin/python3 catalog.py host:port
"""

from _harness import Steps, assert_fields, check_index, ids, run

steps = Steps()


def _register_web(c, node, address, service_id, tags, port):
    # python-consul sends {"node", "address", "service", "check"} in lowercase; Consul decodes case-insensitively.
    return c.catalog.register(
        node,
        address,
        service={'Service': 'web', 'ID': service_id, 'Tags': tags, 'Port': port, 'Address': f'{address}0'},
        check={
            'CheckID': f'{service_id}-alive',
            'Name': f'{service_id} alive',
            'Status': 'passing',
            'ServiceID': service_id,
        },
    )


@steps.add
def datacenters_lists_the_agents(ctx):
    dcs = ctx.c.catalog.datacenters()
    assert dcs == [ctx.dc], f'catalog.datacenters should be [{ctx.dc!r}], got {dcs!r}'


@steps.add
def nodes_include_the_agent(ctx):
    index, nodes = ctx.c.catalog.nodes()
    check_index(index, 'catalog.nodes')
    assert isinstance(nodes, list), f'catalog.nodes data should be a list: {nodes!r}'
    mine = [n for n in nodes if n['Node'] == ctx.node]
    assert len(mine) == 1, f'the agent node {ctx.node!r} should be listed once: {nodes!r}'
    assert mine[0]['Address'], f'the agent node has an address: {mine[0]!r}'
    assert mine[0]['Datacenter'] == ctx.dc, f'node datacenter: {mine[0]!r}'


@steps.add
def services_include_consul(ctx):
    index, services = ctx.c.catalog.services()
    check_index(index, 'catalog.services')
    assert isinstance(services, dict), f'catalog.services data should be a dict: {services!r}'
    assert services.get('consul') == [], f'a server lists the "consul" service with no tags: {services!r}'


@steps.add
def register_and_read_back(ctx):
    c = ctx.c
    index0, _ = c.catalog.nodes()
    assert _register_web(c, 'cat-node-1', '10.1.0.1', 'web-1', ['v1', 'primary'], 8080) is True
    assert _register_web(c, 'cat-node-2', '10.1.0.2', 'web-2', ['v2'], 8081) is True

    index, nodes = c.catalog.nodes()
    assert check_index(index, 'catalog.nodes after register') > int(index0), 'the index must grow after a register'
    by_name = {n['Node']: n for n in nodes}
    assert by_name.get('cat-node-1', {}).get('Address') == '10.1.0.1', f'cat-node-1 in nodes: {nodes!r}'
    assert by_name.get('cat-node-2', {}).get('Address') == '10.1.0.2', f'cat-node-2 in nodes: {nodes!r}'

    _, services = c.catalog.services()
    assert sorted(services.get('web', [])) == ['primary', 'v1', 'v2'], f'web tags are merged: {services!r}'

    index, entries = c.catalog.service('web')
    check_index(index, 'catalog.service')
    assert ids(entries, 'ServiceID') == ['web-1', 'web-2'], f'catalog.service web: {entries!r}'
    web1 = next(e for e in entries if e['ServiceID'] == 'web-1')
    expected = {
        'Node': 'cat-node-1',
        'Address': '10.1.0.1',
        'ServiceName': 'web',
        'ServiceTags': ['v1', 'primary'],
        'ServicePort': 8080,
        'ServiceAddress': '10.1.0.10',
    }
    assert_fields(web1, expected, 'catalog.service("web") web-1')

    _, tagged = c.catalog.service('web', tag='v1')
    assert ids(tagged, 'ServiceID') == ['web-1'], f'tag=v1 filter: {tagged!r}'
    _, tagged = c.catalog.service('web', tag='v2')
    assert ids(tagged, 'ServiceID') == ['web-2'], f'tag=v2 filter: {tagged!r}'
    _, tagged = c.catalog.service('web', tag='nope')
    assert tagged == [], f'an unknown tag matches nothing: {tagged!r}'

    index, node = c.catalog.node('cat-node-1')
    check_index(index, 'catalog.node')
    assert node['Node']['Node'] == 'cat-node-1' and node['Node']['Address'] == '10.1.0.1', f'Node: {node!r}'
    assert list(node['Services']) == ['web-1'], f'Services keyed by ID: {node!r}'
    svc = node['Services']['web-1']
    assert (svc['ID'], svc['Service'], svc['Tags'], svc['Port']) == ('web-1', 'web', ['v1', 'primary'], 8080), (
        f'catalog.node service: {svc!r}'
    )

    _, checks = ctx.c.health.node('cat-node-1')
    assert [(k['CheckID'], k['Status'], k['ServiceID']) for k in checks] == [('web-1-alive', 'passing', 'web-1')], (
        f'the check registered with the service: {checks!r}'
    )


@steps.add
def lowercase_service_and_check_fields(ctx):
    c = ctx.c
    ok = c.catalog.register(
        'cat-lower',
        '10.2.0.1',
        service={'service': 'lower', 'id': 'lower-1', 'tags': ['x'], 'port': 7000},
        check={'checkid': 'lower-check', 'name': 'lower check', 'status': 'warning', 'serviceid': 'lower-1'},
    )
    assert ok is True, 'register with lowercase nested keys'
    _, entries = c.catalog.service('lower')
    assert [(e['ServiceID'], e['ServiceTags'], e['ServicePort']) for e in entries] == [('lower-1', ['x'], 7000)], (
        f'lowercase service fields: {entries!r}'
    )
    _, checks = c.health.checks('lower')
    assert [(k['CheckID'], k['Name'], k['Status']) for k in checks] == [('lower-check', 'lower check', 'warning')], (
        f'lowercase check fields: {checks!r}'
    )


@steps.add
def unknown_node_and_service(ctx):
    index, node = ctx.c.catalog.node('no-such-node')
    check_index(index, 'catalog.node of an unknown node')
    assert node is None, f'an unknown node is null: {node!r}'
    index, entries = ctx.c.catalog.service('no-such-service')
    check_index(index, 'catalog.service of an unknown service')
    assert entries == [], f'an unknown service is an empty list: {entries!r}'


@steps.add
def deregister_service_check_and_node(ctx):
    c = ctx.c
    assert _register_web(c, 'cat-del', '10.3.0.1', 'web-del', ['d'], 9000) is True
    assert c.catalog.register(
        'cat-del', '10.3.0.1', check={'CheckID': 'node-level', 'Name': 'node level', 'Status': 'passing'}
    ) is True
    _, checks = c.health.node('cat-del')
    assert ids(checks, 'CheckID') == ['node-level', 'web-del-alive'], f'before deregister: {checks!r}'

    assert c.catalog.deregister('cat-del', service_id='web-del') is True
    _, node = c.catalog.node('cat-del')
    assert node is not None and node['Services'] == {}, f'service deregistered: {node!r}'
    _, checks = c.health.node('cat-del')
    assert ids(checks, 'CheckID') == ['node-level'], f"the service's check goes with it: {checks!r}"

    assert c.catalog.deregister('cat-del', check_id='node-level') is True
    _, checks = c.health.node('cat-del')
    assert checks == [], f'check deregistered: {checks!r}'

    assert c.catalog.deregister('cat-del') is True
    _, node = c.catalog.node('cat-del')
    assert node is None, f'node deregistered: {node!r}'
    _, nodes = c.catalog.nodes()
    assert 'cat-del' not in [n['Node'] for n in nodes], f'deregistered node still listed: {nodes!r}'


@steps.add
def token_is_passed_through(ctx):
    ct = ctx.ct
    # register sends the token as ?token= and WriteRequest.Token; deregister only in the body.
    assert _register_web(ct, 'cat-token', '10.4.0.1', 'web-token', ['t'], 9100) is True
    index, entries = ct.catalog.service('web', tag='t')
    check_index(index, 'catalog.service with token')
    assert ids(entries, 'Node') == ['cat-token'], f'registered with a token: {entries!r}'
    for call in (ct.catalog.nodes, ct.catalog.services):
        check_index(call()[0], f'{call.__name__} with token')
    assert ct.catalog.node('cat-token')[1] is not None
    assert ct.catalog.deregister('cat-token') is True
    assert ct.catalog.node('cat-token')[1] is None, 'deregistered with a token'


if __name__ == '__main__':
    run('catalog', steps)
