"""KV through python-consul 0.7: put/get, index, recurse, keys, separator, cas, flags, locks, deletes, blocking.

Usage: /usr/bin/python3 kv.py host:port
"""

import threading
import time

import consul
from _harness import Steps, check_index, raises, run

steps = Steps()


@steps.add
def put_get_returns_index_and_decoded_item(ctx):
    c = ctx.c
    assert c.kv.put('kv/basic', 'hello') is True, 'kv.put should return True'
    index, item = c.kv.get('kv/basic')
    first = check_index(index, 'kv.get kv/basic')
    assert item is not None, 'kv.get of an existing key returned None'
    assert item['Key'] == 'kv/basic', f'Key: {item!r}'
    assert item['Value'] == b'hello', f'Value should be base64-decoded to bytes: {item!r}'
    assert item['Flags'] == 0, f'Flags: {item!r}'
    assert item['LockIndex'] == 0, f'LockIndex: {item!r}'
    assert item.get('Session') is None, f'an unlocked key has no Session: {item!r}'
    assert item['CreateIndex'] == item['ModifyIndex'], f'a fresh key has CreateIndex == ModifyIndex: {item!r}'
    assert first >= item['ModifyIndex'], f'index {first} is below the key ModifyIndex {item["ModifyIndex"]}'

    assert c.kv.put('kv/basic', 'world') is True
    index, again = c.kv.get('kv/basic')
    assert check_index(index, 'kv.get after overwrite') > first, 'the index must grow after a write'
    assert again['Value'] == b'world', f'overwritten value: {again!r}'
    assert again['CreateIndex'] == item['CreateIndex'], f'overwrite keeps CreateIndex: {again!r}'
    assert again['ModifyIndex'] > item['ModifyIndex'], f'overwrite bumps ModifyIndex: {again!r}'


@steps.add
def missing_key_is_index_and_none(ctx):
    index, item = ctx.c.kv.get('kv/does-not-exist')
    check_index(index, 'kv.get of a missing key (404)')
    assert item is None, f'a missing key should come back as None, got {item!r}'


@steps.add
def empty_binary_and_odd_keys(ctx):
    c = ctx.c
    assert c.kv.put('kv/empty', None) is True
    _, item = c.kv.get('kv/empty')
    assert item is not None and item['Value'] is None, f'a PUT without a body stores a null Value: {item!r}'

    blob = bytes([0, 1, 2, 127, 128, 254, 255]) + 'é'.encode()
    assert c.kv.put('kv/binary', blob) is True
    _, item = c.kv.get('kv/binary')
    assert item['Value'] == blob, f'binary value must round-trip: {item!r}'

    # python-consul percent-encodes the path; Consul decodes it back.
    assert c.kv.put('kv/with space/and:colon', 'odd') is True
    _, item = c.kv.get('kv/with space/and:colon')
    assert item is not None and item['Key'] == 'kv/with space/and:colon', f'odd key: {item!r}'


@steps.add
def flags_round_trip(ctx):
    c = ctx.c
    assert c.kv.put('kv/flags', 'x', flags=42) is True
    _, item = c.kv.get('kv/flags')
    assert item['Flags'] == 42, f'Flags: {item!r}'
    assert c.kv.put('kv/flags', 'y') is True
    _, item = c.kv.get('kv/flags')
    assert item['Flags'] == 0, f'a PUT without ?flags resets Flags to 0 (Consul): {item!r}'


@steps.add
def flags_cover_uint64(ctx):
    # python-consul documents flags as "an unsigned value between 0 and 2^64-1"; Consul stores a uint64.
    big = 2**64 - 1
    assert ctx.c.kv.put('kv/flags-max', 'x', flags=big) is True
    _, item = ctx.c.kv.get('kv/flags-max')
    assert item['Flags'] == big, f'Flags should be 2^64-1: {item!r}'


@steps.add
def recurse_lists_prefix_in_key_order(ctx):
    c = ctx.c
    for key in ['kv/tree/b', 'kv/tree/a', 'kv/tree/sub/c']:
        assert c.kv.put(key, key.upper()) is True
    assert c.kv.put('kv/treeless', 'not under kv/tree/') is True
    index, items = c.kv.get('kv/tree/', recurse=True)
    check_index(index, 'kv.get recurse')
    assert [i['Key'] for i in items] == ['kv/tree/a', 'kv/tree/b', 'kv/tree/sub/c'], f'recurse: {items!r}'
    assert [i['Value'] for i in items] == [b'KV/TREE/A', b'KV/TREE/B', b'KV/TREE/SUB/C'], f'values: {items!r}'

    index, items = c.kv.get('kv/no-such-tree/', recurse=True)
    check_index(index, 'kv.get recurse of an empty prefix (404)')
    assert items is None, f'recurse over an empty prefix should be None, got {items!r}'


@steps.add
def keys_and_separator(ctx):
    c = ctx.c
    for key in ['kv/keys/a', 'kv/keys/b', 'kv/keys/sub/c', 'kv/keys/sub/d/e']:
        assert c.kv.put(key, 'v') is True
    index, keys = c.kv.get('kv/keys/', keys=True)
    check_index(index, 'kv.get keys')
    assert keys == ['kv/keys/a', 'kv/keys/b', 'kv/keys/sub/c', 'kv/keys/sub/d/e'], f'keys: {keys!r}'

    _, keys = c.kv.get('kv/keys/', keys=True, separator='/')
    assert keys == ['kv/keys/a', 'kv/keys/b', 'kv/keys/sub/'], f'keys up to "/": {keys!r}'

    _, keys = c.kv.get('kv/keys/s', keys=True, separator='/')
    assert keys == ['kv/keys/sub/'], f'a partial prefix groups at the next separator: {keys!r}'

    index, keys = c.kv.get('kv/no-such-keys/', keys=True)
    check_index(index, 'kv.get keys of an empty prefix (404)')
    assert keys is None, f'keys of an empty prefix should be None, got {keys!r}'


@steps.add
def check_and_set(ctx):
    c = ctx.c
    assert c.kv.put('kv/cas', 'v1', cas=0) is True, 'cas=0 creates an absent key'
    assert c.kv.put('kv/cas', 'v2', cas=0) is False, 'cas=0 must not overwrite an existing key'
    _, item = c.kv.get('kv/cas')
    assert item['Value'] == b'v1', f'the failed cas changed the value: {item!r}'
    modify = item['ModifyIndex']
    assert c.kv.put('kv/cas', 'v3', cas=modify + 1000) is False, 'cas with a wrong index must fail'
    assert c.kv.put('kv/cas', 'v3', cas=modify) is True, 'cas with the current ModifyIndex must succeed'
    _, item = c.kv.get('kv/cas')
    assert item['Value'] == b'v3', f'value after cas: {item!r}'
    assert c.kv.put('kv/cas', 'v4', cas=modify) is False, 'cas with a stale index must fail'

    modify = item['ModifyIndex']
    assert c.kv.delete('kv/cas', cas=modify + 1000) is False, 'delete with a wrong cas index must return False'
    _, still = c.kv.get('kv/cas')
    assert still is not None, 'a failed cas delete removed the key'
    assert c.kv.delete('kv/cas', cas=modify) is True, 'delete with the current ModifyIndex must return True'
    _, gone = c.kv.get('kv/cas')
    assert gone is None, f'cas delete left the key: {gone!r}'


@steps.add
def delete_single_and_recurse(ctx):
    c = ctx.c
    assert c.kv.put('kv/del-one', 'x') is True
    assert c.kv.delete('kv/del-one') is True
    assert c.kv.get('kv/del-one')[1] is None, 'deleted key is still there'
    assert c.kv.delete('kv/del-one') is True, 'deleting a missing key still returns True'

    for key in ['kv/deltree/a', 'kv/deltree/b/c', 'kv/deltree/b/d']:
        assert c.kv.put(key, 'x') is True
    assert c.kv.put('kv/deltreeX', 'sibling') is True
    assert c.kv.delete('kv/deltree/', recurse=True) is True
    assert c.kv.get('kv/deltree/', recurse=True)[1] is None, 'recursive delete left keys under the prefix'
    _, sibling = c.kv.get('kv/deltreeX')
    assert sibling is not None and sibling['Value'] == b'sibling', 'recursive delete removed a key outside the prefix'


@steps.add
def acquire_and_release_with_sessions(ctx):
    c = ctx.c
    s1 = c.session.create(name='kv-lock-1', lock_delay=0)
    s2 = c.session.create(name='kv-lock-2', lock_delay=0)
    try:
        assert c.kv.put('kv/lock', 'owner-1', acquire=s1) is True, 'acquire of a free key'
        _, item = c.kv.get('kv/lock')
        assert item['Session'] == s1 and item['LockIndex'] == 1, f'after acquire: {item!r}'
        assert item['Value'] == b'owner-1', f'acquire writes the value: {item!r}'

        assert c.kv.put('kv/lock', 'owner-2', acquire=s2) is False, 'acquire of a held key must fail'
        _, item = c.kv.get('kv/lock')
        assert item['Session'] == s1 and item['Value'] == b'owner-1', f'a failed acquire changed the key: {item!r}'

        assert c.kv.put('kv/lock', 'owner-1b', acquire=s1) is True, 're-acquire by the holder succeeds'
        _, item = c.kv.get('kv/lock')
        assert item['LockIndex'] == 1 and item['Value'] == b'owner-1b', f're-acquire keeps LockIndex: {item!r}'

        assert c.kv.put('kv/lock', 'nope', release=s2) is False, 'release by a non-holder must fail'
        assert c.kv.put('kv/lock', 'released', release=s1) is True, 'release by the holder'
        _, item = c.kv.get('kv/lock')
        assert item.get('Session') is None, f'release clears Session: {item!r}'
        assert item['LockIndex'] == 1 and item['Value'] == b'released', f'release keeps LockIndex: {item!r}'

        assert c.kv.put('kv/lock', 'owner-2', acquire=s2) is True, 'acquire after release'
        _, item = c.kv.get('kv/lock')
        assert item['Session'] == s2 and item['LockIndex'] == 2, f'second acquire bumps LockIndex: {item!r}'
    finally:
        c.session.destroy(s1)
        c.session.destroy(s2)


@steps.add
def acquire_with_unknown_session_is_an_error(ctx):
    bogus = '00000000-0000-4000-8000-000000000000'
    err = raises(consul.ConsulException, lambda: ctx.c.kv.put('kv/bogus-lock', 'x', acquire=bogus), 'acquire')
    assert str(err).startswith('500'), f'Consul answers an unknown session with a 500: {err}'
    assert ctx.c.kv.get('kv/bogus-lock')[1] is None, 'a failed acquire created the key'


@steps.add
def blocking_get_times_out_without_change(ctx):
    c = ctx.c
    assert c.kv.put('kv/block-idle', 'v') is True
    index, _ = c.kv.get('kv/block-idle')
    started = time.monotonic()
    again, item = c.kv.get('kv/block-idle', index=index, wait='1s')
    elapsed = time.monotonic() - started
    assert again == index, f'nothing changed, so the index stays {index}, got {again}'
    assert item['Value'] == b'v', f'item: {item!r}'
    assert elapsed >= 0.9, f'the blocking get returned after {elapsed:.2f}s instead of waiting ~1s'
    assert elapsed < 5, f'the blocking get took {elapsed:.2f}s for wait=1s'


def _write_later(ctx, key, value, delay):
    errors = []

    def write():
        try:
            ctx.client().kv.put(key, value)
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    timer = threading.Timer(delay, write)
    timer.start()
    return timer, errors


@steps.add
def blocking_get_returns_after_write_from_another_thread(ctx):
    c = ctx.c
    assert c.kv.put('kv/block', 'v1') is True
    index, item = c.kv.get('kv/block')
    timer, errors = _write_later(ctx, 'kv/block', 'v2', 0.5)
    started = time.monotonic()
    try:
        new_index, new_item = c.kv.get('kv/block', index=index, wait='30s')
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert not errors, f'the writer thread failed: {errors!r}'
    assert elapsed >= 0.4, f'the get returned after {elapsed:.2f}s, before the write: it did not block'
    assert elapsed < 10, f'the get took {elapsed:.2f}s: the write did not wake it'
    assert int(new_index) > int(index), f'index should grow past {index}, got {new_index}'
    assert new_item['Value'] == b'v2', f'blocking get should see the new value: {new_item!r}'


@steps.add
def blocking_get_on_missing_key_returns_when_created(ctx):
    c = ctx.c
    index, item = c.kv.get('kv/block-new')
    assert item is None
    check_index(index, 'kv.get of a missing key')
    timer, errors = _write_later(ctx, 'kv/block-new', 'born', 0.5)
    started = time.monotonic()
    try:
        new_index, new_item = c.kv.get('kv/block-new', index=index, wait='30s')
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert not errors, f'the writer thread failed: {errors!r}'
    assert 0.4 <= elapsed < 10, f'blocking get on a missing key returned after {elapsed:.2f}s'
    assert int(new_index) > int(index), f'index should grow past {index}, got {new_index}'
    assert new_item is not None and new_item['Value'] == b'born', f'the created key: {new_item!r}'


@steps.add
def token_is_passed_through(ctx):
    ct = ctx.ct
    assert ct.kv.put('kv/token', 'with-token') is True, 'put with ?token= should be accepted'
    index, item = ct.kv.get('kv/token')
    check_index(index, 'kv.get with token')
    assert item['Value'] == b'with-token', f'get with token: {item!r}'
    _, keys = ct.kv.get('kv/tok', keys=True)
    assert keys == ['kv/token'], f'keys with token: {keys!r}'
    assert ct.kv.delete('kv/token') is True, 'delete with ?token= should be accepted'
    assert ct.kv.get('kv/token')[1] is None


def clear_keys(ctx):
    assert ctx.c.kv.delete('kv/', recurse=True) is True


if __name__ == '__main__':
    run('kv', steps, setup=clear_keys)
