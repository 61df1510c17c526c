"""Status through python-consul 0.7: leader and peers.

Usage: /usr/bin/python3 status.py host:port
"""

import re

from _harness import Steps, run

steps = Steps()

ADDRESS = re.compile(r'^\d{1,3}(\.\d{1,3}){3}:\d+$')


@steps.add
def leader_is_an_address(ctx):
    leader = ctx.c.status.leader()
    assert isinstance(leader, str) and ADDRESS.match(leader), f'status.leader is "ip:port", got {leader!r}'
    stats = ctx.c.agent.self().get('Stats', {}).get('consul', {})
    assert stats.get('leader_addr') == leader, f'agent.self Stats.consul.leader_addr agrees: {stats!r}'


@steps.add
def peers_include_the_leader(ctx):
    peers = ctx.c.status.peers()
    leader = ctx.c.status.leader()
    assert isinstance(peers, list) and peers, f'status.peers is a non-empty list: {peers!r}'
    assert all(isinstance(p, str) and ADDRESS.match(p) for p in peers), f'peers are "ip:port": {peers!r}'
    assert leader in peers, f'the leader {leader!r} is one of the peers {peers!r}'
    assert len(peers) == 1, f'a dev agent is a single-server cluster: {peers!r}'


@steps.add
def token_client_reads_status(ctx):
    assert ctx.ct.status.leader() == ctx.c.status.leader(), 'status.leader with a token client'
    assert ctx.ct.status.peers() == ctx.c.status.peers(), 'status.peers with a token client'


if __name__ == '__main__':
    run('status', steps)
