import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WatchParseError } from '../../src/watch/params.ts';
import { parseWatch } from '../../src/watch/parse.ts';

// Watch definitions checked as Consul's watch.Parse checks them, with its messages.

describe('parseWatch', () => {
  const refused: [Record<string, unknown>, string][] = [
    [{}, 'Watch type must be specified'],
    [{ type: 'bogus' }, 'Unsupported watch type: bogus'],
    [{ type: 'key' }, 'Must specify a single key to watch'],
    [{ type: 'keyprefix' }, 'Must specify a single prefix to watch'],
    [{ type: 'service' }, 'Must specify a single service to watch'],
    [{ type: 'checks', service: 'web', state: 'passing' }, 'Cannot specify service and state'],
    [{ type: 'key', key: 7 }, 'Expecting key to be a string'],
    [{ type: 'service', service: 'web', passingonly: 'yes' }, 'Expecting passingonly to be a boolean'],
    [{ type: 'service', service: 'web', tag: [1] }, 'Index 0 of tag expected to be string'],
    [{ type: 'key', key: 'k', prefix: 'p', color: 'red' }, 'Invalid parameters: [color prefix]'],
    [{ type: 'event', stale: true }, 'Invalid parameters: [stale]'],
    [
      { type: 'key', key: 'k', handler_type: 'http' },
      "Handler type 'http' requires 'http_handler_config' to be set",
    ],
    [
      { type: 'key', key: 'k', handler_type: 'http', http_handler_config: {} },
      "Failed to parse 'http_handler_config': Requires 'path' to be set",
    ],
    [
      {
        type: 'key',
        key: 'k',
        handler_type: 'http',
        http_handler_config: { path: 'http://x', timeout: 'soon' },
      },
      'Failed to parse \'http_handler_config\': Failed to parse timeout: time: invalid duration "soon"',
    ],
  ];
  for (const [params, message] of refused) {
    test(`${JSON.stringify(params)} → ${message}`, () => {
      assert.throws(
        () => parseWatch(params),
        (err: unknown) => {
          assert.ok(err instanceof WatchParseError);
          assert.equal(err.message, message);
          return true;
        },
      );
    });
  }

  test('the HTTP handler gets Consul defaults: POST, 10 s, header values as lists', () => {
    const spec = parseWatch({
      type: 'keyprefix',
      prefix: 'app/',
      handler_type: 'http',
      http_handler_config: {
        path: 'https://hooks/x',
        header: { 'X-A': 'one', 'X-B': ['1', '2'] },
        tls_skip_verify: true,
      },
    });
    assert.deepEqual(spec.httpHandler, {
      path: 'https://hooks/x',
      method: 'POST',
      header: { 'X-A': ['one'], 'X-B': ['1', '2'] },
      timeoutMs: 10_000,
      tlsSkipVerify: true,
    });
  });

  test('exempt parameters are set aside for the caller; datacenter and token are read', () => {
    const spec = parseWatch({ type: 'checks', datacenter: 'dc2', token: 't', args: ['/bin/true'] }, ['args']);
    assert.equal(spec.datacenter, 'dc2');
    assert.equal(spec.token, 't');
    assert.deepEqual(spec.exempt, { args: ['/bin/true'] });
  });
});
