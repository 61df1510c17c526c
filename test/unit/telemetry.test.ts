import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StateStore } from '../../src/state/store.ts';
import { InmemSink } from '../../src/telemetry/inmem-sink.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { dottedName, prometheusName } from '../../src/telemetry/names.ts';
import { float32Json, goUtcString, summarize } from '../../src/telemetry/summary.ts';

// go-metrics' in-memory sink and MetricsSummary, as /v1/agent/metrics renders them.

const START = Date.UTC(2026, 10, 30, 13, 20, 0);

/** A sink on a clock the test moves. */
function sinkAt(ms: number) {
  const clock = { now: ms };
  return { clock, sink: new InmemSink(10_000, () => clock.now) };
}

describe('metric names', () => {
  test('parts keep their underscores in both forms', () => {
    assert.equal(dottedName(['runtime', 'alloc_bytes']), 'consul.runtime.alloc_bytes');
    assert.equal(prometheusName(['runtime', 'alloc_bytes']), 'consul_runtime_alloc_bytes');
    assert.equal(dottedName(['session_ttl', 'active']), 'consul.session_ttl.active');
    assert.equal(dottedName(['a b', 'c']), 'consul.a_b.c');
    assert.equal(prometheusName(['a-b', 'c.d']), 'consul_a_b_c_d');
  });
});

describe('inmem sink', () => {
  test('a sample aggregates Count, Sum, Min, Max, Mean, Stddev and a per-second Rate', () => {
    const { sink } = sinkAt(START + 3_000);
    for (const v of [4, 1, 3, 2]) sink.addSample(['kvs', 'apply'], v);
    const [sample] = summarize(sink.interval()).Samples;
    assert.deepEqual(sample, {
      Name: 'consul.kvs.apply',
      Count: 4,
      Rate: 1,
      Sum: 10,
      Min: 1,
      Max: 4,
      Mean: 2.5,
      Stddev: Math.sqrt(20 / 12),
      Labels: {},
    });
  });

  test('values are float32s, as go-metrics takes them', () => {
    const { sink } = sinkAt(START);
    sink.addSample(['x'], 0.1);
    sink.setGauge(['g'], 0.1);
    const summary = summarize(sink.interval());
    assert.equal(summary.Samples[0]!.Min, 0.10000000149011612);
    assert.equal(summary.Gauges[0]!.Value, 0.1, 'a float32 gauge prints as its shortest decimal');
  });

  test('a single value or identical values have a zero Stddev, never NaN', () => {
    const { sink } = sinkAt(START);
    sink.addSample(['one'], 7.3);
    for (let i = 0; i < 3; i++) sink.addSample(['same'], 0.7);
    for (const sample of summarize(sink.interval()).Samples) assert.equal(sample.Stddev, 0);
  });

  test('counters aggregate like samples, per label set', () => {
    const { sink } = sinkAt(START);
    sink.incrCounter(['raft', 'apply'], 1);
    sink.incrCounter(['raft', 'apply'], 2);
    sink.incrCounter(['rpc', 'request_error'], 1, [{ name: 'reason', value: 'tls' }]);
    const { Counters } = summarize(sink.interval());
    assert.deepEqual(
      Counters.map((c) => [c.Name, c.Count, c.Sum, c.Labels]),
      [
        ['consul.raft.apply', 2, 3, {}],
        ['consul.rpc.request_error', 1, 1, { reason: 'tls' }],
      ],
    );
  });

  test('a gauge keeps the last value set in the interval', () => {
    const { sink } = sinkAt(START);
    sink.setGauge(['state', 'nodes'], 1);
    sink.setGauge(['state', 'nodes'], 3);
    assert.deepEqual(summarize(sink.interval()).Gauges, [
      { Name: 'consul.state.nodes', Value: 3, Labels: {} },
    ]);
  });

  test('a new 10 s interval starts empty, stamped with its start', () => {
    const { clock, sink } = sinkAt(START + 9_999);
    sink.addSample(['kvs', 'apply'], 1);
    assert.equal(summarize(sink.interval()).Timestamp, '2026-11-30 13:20:00 +0000 UTC');
    clock.now = START + 10_000;
    const next = summarize(sink.interval());
    assert.equal(next.Timestamp, '2026-11-30 13:20:10 +0000 UTC');
    assert.deepEqual(next.Samples, []);
  });

  test('entries are sorted by hash: name, then label pairs in their given order', () => {
    const { sink } = sinkAt(START);
    const http = (method: string, path: string) => [
      { name: 'method', value: method },
      { name: 'path', value: path },
    ];
    sink.addSample(['kvs', 'apply'], 1);
    sink.addSample(['api', 'http'], 1, http('PUT', 'v1_kv_'));
    sink.addSample(['api', 'http'], 1, http('GET', 'v1_kv_'));
    sink.addSample(['api', 'http'], 1, http('GET', 'v1_catalog_nodes'));
    assert.deepEqual(
      summarize(sink.interval()).Samples.map((s) => [s.Name, s.Labels.method, s.Labels.path]),
      [
        ['consul.api.http', 'GET', 'v1_catalog_nodes'],
        ['consul.api.http', 'GET', 'v1_kv_'],
        ['consul.api.http', 'PUT', 'v1_kv_'],
        ['consul.kvs.apply', undefined, undefined],
      ],
    );
  });
});

describe('summary formatting', () => {
  test("Timestamp is Go's time.String() of the UTC instant, rounded to the second", () => {
    assert.equal(goUtcString(START), '2026-11-30 13:20:00 +0000 UTC');
    assert.equal(goUtcString(START + 500), '2026-11-30 13:20:01 +0000 UTC');
    assert.equal(goUtcString(Date.UTC(2027, 0, 2, 3, 4, 5)), '2027-01-02 03:04:05 +0000 UTC');
  });

  test('a float32 prints as the shortest decimal that reads back as itself', () => {
    assert.equal(float32Json(123_456_789), 123_456_790);
    assert.equal(float32Json(16_777_217), 16_777_216);
    assert.equal(float32Json(0.1), 0.1);
    assert.equal(float32Json(1 / 3), 0.33333334);
    assert.equal(float32Json(0), 0);
    assert.equal(float32Json(-2.5), -2.5);
  });
});

describe('agent Metrics', () => {
  test("summary(): go-metrics' envelope and field order, Consul's names, every gauge read", () => {
    const metrics = new Metrics(new StateStore());
    metrics.httpRequests.observe({ method: 'PUT', path: 'v1_kv_' }, 2);
    metrics.httpRequests.observe({ method: 'PUT', path: 'v1_kv_' }, 4);
    metrics.httpRequests.observe({ method: 'GET', path: 'v1_agent_metrics' }, 1);
    metrics.raftApply.inc();
    metrics.blockingQueries.inc();

    const summary = metrics.summary();
    assert.deepEqual(Object.keys(summary), ['Timestamp', 'Gauges', 'Points', 'Counters', 'Samples']);
    assert.match(summary.Timestamp, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000 UTC$/);
    const gauges = Object.fromEntries(summary.Gauges.map((g) => [g.Name, g.Value]));
    assert.equal(gauges['consul.rpc.queries_blocking'], 1);
    assert.equal(gauges['consul.session_ttl.active'], 0);
    assert.ok(gauges['consul.runtime.alloc_bytes']! > 0);
    for (const name of Object.keys(gauges)) assert.match(name, /^consul\./);

    const http = summary.Samples.filter((s) => s.Name === 'consul.api.http');
    assert.deepEqual(
      http.map((s) => [s.Labels, s.Count, s.Sum]),
      [
        [{ method: 'GET', path: 'v1_agent_metrics' }, 1, 1],
        [{ method: 'PUT', path: 'v1_kv_' }, 2, 6],
      ],
    );
    assert.deepEqual(Object.keys(http[0]!), [
      'Name',
      'Count',
      'Rate',
      'Sum',
      'Min',
      'Max',
      'Mean',
      'Stddev',
      'Labels',
    ]);
    assert.deepEqual(
      summary.Counters.map((c) => [c.Name, c.Count]),
      [['consul.raft.apply', 1]],
    );
  });

  test('Prometheus text keeps the same metrics under underscored names', async () => {
    const metrics = new Metrics(new StateStore());
    metrics.httpRequests.observe({ method: 'PUT', path: 'v1_kv_' }, 2);
    const text = await metrics.registry.metrics();
    assert.match(text, /^# TYPE consul_api_http summary$/m);
    assert.match(text, /^consul_api_http_count\{method="PUT",path="v1_kv_"\} 1$/m);
    assert.match(text, /^# TYPE consul_session_ttl_active gauge$/m);
    assert.match(text, /^# TYPE consul_fsm_tombstone summary$/m);
  });
});
