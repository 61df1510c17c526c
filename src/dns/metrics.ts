import { Counter, type Registry, Summary } from 'prom-client';
import { prometheusName } from '../telemetry/names.ts';

// Consul's DNS metrics, in the agent's Prometheus registry: consul.dns.domain_query and consul.dns.ptr_query
// (milliseconds, labelled with the node), consul.dns.query (by question type) and consul.dns.stale_queries.
// They are not in the JSON form of /v1/agent/metrics, whose in-memory sink the Metrics class keeps to itself.

const QUANTILES = [0.5, 0.9, 0.99];

export class DnsMetrics {
  private readonly domainQuery: Summary<'node'>;
  private readonly ptrQuery: Summary<'node'>;
  private readonly query: Summary<'node' | 'type'>;
  private readonly stale: Counter;

  constructor(
    registry: Registry,
    private readonly node: string,
  ) {
    const summary = <L extends string>(key: string[], help: string, labelNames: L[]) =>
      new Summary<L>({
        name: prometheusName(key),
        help,
        labelNames,
        percentiles: QUANTILES,
        registers: [registry],
      });
    this.domainQuery = summary(
      ['dns', 'domain_query'],
      'Time to answer a query in the domain, in milliseconds',
      ['node'],
    );
    this.ptrQuery = summary(['dns', 'ptr_query'], 'Time to answer a reverse lookup, in milliseconds', [
      'node',
    ]);
    this.query = summary(['dns', 'query'], 'Time to answer a DNS query by question type, in milliseconds', [
      'node',
      'type',
    ]);
    this.stale = new Counter({
      name: prometheusName(['dns', 'stale_queries']),
      help: 'DNS answers served from state more than 5 s behind the leader',
      registers: [registry],
    });
  }

  observeDomain(type: string, ms: number): void {
    this.domainQuery.observe({ node: this.node }, ms);
    this.query.observe({ node: this.node, type }, ms);
  }

  observePtr(ms: number): void {
    this.ptrQuery.observe({ node: this.node }, ms);
    this.query.observe({ node: this.node, type: 'PTR' }, ms);
  }

  staleQuery(): void {
    this.stale.inc();
  }
}
