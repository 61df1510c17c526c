import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventIndex } from '../../src/util/event-index.ts';
import { parseJson } from '../../src/util/json.ts';
import { HealthCheck, KVPair, UserEvent } from '../../src/watch/api-structs.ts';
import { encodeGo, goString, mapOf, ptrTo, sliceOf, toGo } from '../../src/watch/go-json.ts';

// What a watch hands its handler: the API's JSON decoded into Consul's api structs and encoded again by Go.

describe('Go round trip of watch results', () => {
  test('a KV pair takes api.KVPair field order, zero values for absent fields, and an exact uint64', () => {
    const server = parseJson(
      '{"LockIndex":1,"Key":"a/b","Flags":3304740253564472344,"Value":"dg==","CreateIndex":5,"ModifyIndex":7}',
    );
    assert.equal(
      encodeGo(toGo(ptrTo(KVPair), server)),
      '{"Key":"a/b","CreateIndex":5,"ModifyIndex":7,"LockIndex":1,"Flags":3304740253564472344,' +
        '"Value":"dg==","Session":""}',
    );
  });

  test('nothing decodes to null, as a missing key or an empty prefix reaches the handler', () => {
    assert.equal(encodeGo(toGo(ptrTo(KVPair), undefined)), 'null');
    assert.equal(encodeGo(toGo(sliceOf(ptrTo(KVPair)), undefined)), 'null');
    assert.equal(encodeGo(toGo(sliceOf(ptrTo(KVPair)), [])), '[]');
  });

  test('map keys come out sorted bytewise, as Go sorts them (JS would put "2" before "10")', () => {
    const services = { web: ['b', 'a'], '2': [], '10': null, Zeta: [] };
    assert.equal(
      encodeGo(toGo(mapOf(sliceOf(goString)), services)),
      '{"10":null,"2":[],"Zeta":[],"web":["b","a"]}',
    );
  });

  test('a check: api fields only, omitempty honoured, Definition durations written by its MarshalJSON', () => {
    const server = {
      Node: 'n1',
      CheckID: 'service:web',
      Name: 'web check',
      Status: 'passing',
      Notes: '',
      Output: 'ok',
      ServiceID: 'web',
      ServiceName: 'web',
      ServiceTags: ['v1'],
      Type: 'http',
      Interval: '10s',
      ExposedPort: 0,
      Definition: {
        HTTP: 'http://x/health',
        Interval: '10s',
        Timeout: 1_500_000_000,
        Header: { B: ['2'], A: ['1'] },
      },
      CreateIndex: 9,
      ModifyIndex: 10,
    };
    const encoded = encodeGo(toGo(HealthCheck, server));
    assert.equal(
      encoded,
      '{"Node":"n1","CheckID":"service:web","Name":"web check","Status":"passing","Notes":"","Output":"ok",' +
        '"ServiceID":"web","ServiceName":"web","ServiceTags":["v1"],"Type":"http","ExposedPort":0,' +
        '"Definition":{"Interval":"10s","Timeout":"1.5s","DeregisterCriticalServiceAfter":"0s",' +
        '"HTTP":"http://x/health","Header":{"A":["1"],"B":["2"]},"Method":"","Body":"","TLSServerName":"",' +
        '"TLSSkipVerify":false,"TCP":"","TCPUseTLS":false,"UDP":"","GRPC":"","OSService":"","GRPCUseTLS":false},' +
        '"CreateIndex":9,"ModifyIndex":10}',
    );
  });

  test("indented as MarshalIndent with four spaces, and HTML characters escaped as Go's encoder does", () => {
    const event = { ID: 'x', Name: '<deploy & go>', Payload: null, Version: 1, LTime: 2 };
    assert.equal(
      encodeGo(toGo(sliceOf(ptrTo(UserEvent)), [event]), '    '),
      [
        '[',
        '    {',
        '        "ID": "x",',
        '        "Name": "\\u003cdeploy \\u0026 go\\u003e",',
        '        "Payload": null,',
        '        "NodeFilter": "",',
        '        "ServiceFilter": "",',
        '        "TagFilter": "",',
        '        "Version": 1,',
        '        "LTime": 2',
        '    }',
        ']',
      ].join('\n'),
    );
    assert.equal(encodeGo(toGo(sliceOf(ptrTo(UserEvent)), []), '    '), '[]');
  });
});

test("an event's index is its UUID's halves XORed (Consul's TestUUIDToUint64 vector)", () => {
  assert.equal(eventIndex('cb9a81ad-fff6-52ac-92a7-5f70687805ec'), 6430540886266763072n);
});
