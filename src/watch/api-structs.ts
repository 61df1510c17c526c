import {
  field,
  goAny,
  goBool,
  goBytes,
  goDuration,
  goInt,
  goString,
  mapOf,
  ptrTo,
  sliceOf,
  struct,
} from './go-json.ts';

// The structs of Consul's Go api package that watch results decode into (api/kv.go, catalog.go, agent.go,
// health.go, event.go), field for field and in their order. Connect's nested proxy settings are carried as
// written, with sorted keys, since nothing here produces them yet.

export const KVPair = struct(
  field('Key', goString),
  field('CreateIndex', goInt),
  field('ModifyIndex', goInt),
  field('LockIndex', goInt),
  field('Flags', goInt),
  field('Value', goBytes),
  field('Session', goString),
  field('Namespace', goString, true),
  field('Partition', goString, true),
);

const Locality = struct(field('Region', goString, true), field('Zone', goString, true));

export const Node = struct(
  field('ID', goString),
  field('Node', goString),
  field('Address', goString),
  field('Datacenter', goString),
  field('TaggedAddresses', mapOf(goString)),
  field('Meta', mapOf(goString)),
  field('CreateIndex', goInt),
  field('ModifyIndex', goInt),
  field('Partition', goString, true),
  field('PeerName', goString, true),
  field('Locality', ptrTo(Locality), true),
);

const ProxyConfig = struct(
  field('EnvoyExtensions', sliceOf(goAny), true),
  field('DestinationServiceName', goString, true),
  field('DestinationServiceID', goString, true),
  field('LocalServiceAddress', goString, true),
  field('LocalServicePort', goInt, true),
  field('LocalServiceSocketPath', goString, true),
  field('Mode', goString, true),
  field('TransparentProxy', ptrTo(goAny), true),
  field('Config', mapOf(goAny), true),
  field('Upstreams', sliceOf(goAny), true),
  field('MeshGateway', struct(field('Mode', goString, true)), true),
  field('Expose', struct(field('Checks', goBool, true), field('Paths', sliceOf(goAny), true)), true),
  field('AccessLogs', ptrTo(goAny), true),
);

const AgentService = struct(
  field('Kind', goString, true),
  field('ID', goString),
  field('Service', goString),
  field('Tags', sliceOf(goString)),
  field('Meta', mapOf(goString)),
  field('Port', goInt),
  field('Address', goString),
  field('SocketPath', goString, true),
  field('TaggedAddresses', mapOf(struct(field('Address', goString), field('Port', goInt))), true),
  field('Weights', struct(field('Passing', goInt), field('Warning', goInt))),
  field('EnableTagOverride', goBool),
  field('CreateIndex', goInt, true),
  field('ModifyIndex', goInt, true),
  field('ContentHash', goString, true),
  field('Proxy', ptrTo(ProxyConfig), true),
  field(
    'Connect',
    ptrTo(struct(field('Native', goBool, true), field('SidecarService', ptrTo(goAny), true))),
    true,
  ),
  field('PeerName', goString, true),
  field('Namespace', goString, true),
  field('Partition', goString, true),
  field('Datacenter', goString, true),
  field('Locality', ptrTo(Locality), true),
);

/**
 * api.HealthCheckDefinition, as its MarshalJSON writes it: the three durations first, as Go duration strings,
 * then the embedded fields.
 */
const HealthCheckDefinition = struct(
  field('Interval', goDuration),
  field('Timeout', goDuration),
  field('DeregisterCriticalServiceAfter', goDuration),
  field('HTTP', goString),
  field('Header', mapOf(sliceOf(goString))),
  field('Method', goString),
  field('Body', goString),
  field('TLSServerName', goString),
  field('TLSSkipVerify', goBool),
  field('TCP', goString),
  field('TCPUseTLS', goBool),
  field('UDP', goString),
  field('GRPC', goString),
  field('OSService', goString),
  field('GRPCUseTLS', goBool),
  field('SessionName', goString, true),
);

export const HealthCheck = struct(
  field('Node', goString),
  field('CheckID', goString),
  field('Name', goString),
  field('Status', goString),
  field('Notes', goString),
  field('Output', goString),
  field('ServiceID', goString),
  field('ServiceName', goString),
  field('ServiceTags', sliceOf(goString)),
  field('Type', goString),
  field('Namespace', goString, true),
  field('Partition', goString, true),
  field('ExposedPort', goInt),
  field('PeerName', goString, true),
  field('Definition', HealthCheckDefinition),
  field('CreateIndex', goInt),
  field('ModifyIndex', goInt),
);

export const ServiceEntry = struct(
  field('Node', ptrTo(Node)),
  field('Service', ptrTo(AgentService)),
  field('Checks', sliceOf(ptrTo(HealthCheck))),
);

export const UserEvent = struct(
  field('ID', goString),
  field('Name', goString),
  field('Payload', goBytes),
  field('NodeFilter', goString),
  field('ServiceFilter', goString),
  field('TagFilter', goString),
  field('Version', goInt),
  field('LTime', goInt),
);
