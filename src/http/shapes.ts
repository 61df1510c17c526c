import type { CheckedInstance, ServiceInstance } from '../state/catalog-read.ts';
import type { ServiceInput } from '../state/commands.ts';
import type { CheckRow, KVRow, NodeRow, ServiceRow, SessionRow } from '../state/types.ts';

// State rows rendered in Consul's JSON shapes. Empty lists stay `[]`, omitempty fields are left out as Go
// leaves them out, and byte values are base64 as Go marshals []byte.

const emptyProxy = () => ({ Mode: '', MeshGateway: {}, Expose: {} });

export function kvJson(row: KVRow, withValue = true) {
  return {
    LockIndex: row.LockIndex,
    Key: row.Key,
    Flags: row.Flags,
    Value: withValue && row.Value ? Buffer.from(row.Value).toString('base64') : null,
    ...(row.Session ? { Session: row.Session } : {}),
    CreateIndex: row.CreateIndex,
    ModifyIndex: row.ModifyIndex,
  };
}

export function nodeJson(row: NodeRow) {
  return {
    ID: row.ID,
    Node: row.Node,
    Address: row.Address,
    Datacenter: row.Datacenter,
    TaggedAddresses: row.TaggedAddresses,
    Meta: row.Meta,
    CreateIndex: row.CreateIndex,
    ModifyIndex: row.ModifyIndex,
  };
}

/** A service as it sits on a node (`NodeService`): health entries, catalog/node, txn results. */
export function nodeServiceJson(row: ServiceRow) {
  return {
    ...(row.Kind ? { Kind: row.Kind } : {}),
    ID: row.ID,
    Service: row.Service,
    Tags: row.Tags,
    Address: row.Address,
    ...(Object.keys(row.TaggedAddresses).length > 0 ? { TaggedAddresses: row.TaggedAddresses } : {}),
    Meta: row.Meta,
    Port: row.Port,
    Weights: row.Weights,
    EnableTagOverride: row.EnableTagOverride,
    Proxy: row.Proxy ?? emptyProxy(),
    Connect: row.Connect ?? {},
    CreateIndex: row.CreateIndex,
    ModifyIndex: row.ModifyIndex,
  };
}

/** A catalog service entry (`ServiceNode`): node fields flattened beside Service* fields. */
export function serviceNodeJson({ node, service }: ServiceInstance) {
  return {
    ID: node.ID,
    Node: node.Node,
    Address: node.Address,
    Datacenter: node.Datacenter,
    TaggedAddresses: node.TaggedAddresses,
    NodeMeta: node.Meta,
    ServiceKind: service.Kind,
    ServiceID: service.ID,
    ServiceName: service.Service,
    ServiceTags: service.Tags,
    ServiceAddress: service.Address,
    ...(Object.keys(service.TaggedAddresses).length > 0
      ? { ServiceTaggedAddresses: service.TaggedAddresses }
      : {}),
    ServiceWeights: service.Weights,
    ServiceMeta: service.Meta,
    ServicePort: service.Port,
    ServiceSocketPath: '',
    ServiceEnableTagOverride: service.EnableTagOverride,
    ServiceProxy: service.Proxy ?? emptyProxy(),
    ServiceConnect: service.Connect ?? {},
    CreateIndex: service.CreateIndex,
    ModifyIndex: service.ModifyIndex,
  };
}

export function checkJson(row: CheckRow) {
  return {
    Node: row.Node,
    CheckID: row.CheckID,
    Name: row.Name,
    Status: row.Status,
    Notes: row.Notes,
    Output: row.Output,
    ServiceID: row.ServiceID,
    ServiceName: row.ServiceName,
    ServiceTags: row.ServiceTags,
    Type: row.Type,
    Interval: row.Definition.Interval ?? '',
    Timeout: row.Definition.Timeout ?? '',
    ExposedPort: 0,
    Definition: row.Definition,
    CreateIndex: row.CreateIndex,
    ModifyIndex: row.ModifyIndex,
  };
}

export function healthEntryJson({ node, service, checks }: CheckedInstance) {
  return { Node: nodeJson(node), Service: nodeServiceJson(service), Checks: checks.map(checkJson) };
}

export function sessionJson(row: SessionRow) {
  return {
    ID: row.ID,
    Name: row.Name,
    Node: row.Node,
    LockDelay: row.LockDelay,
    Behavior: row.Behavior,
    TTL: row.TTL,
    ...(row.Checks.length > 0 ? { Checks: row.Checks } : {}),
    NodeChecks: row.NodeChecks,
    ServiceChecks: row.ServiceChecks,
    CreateIndex: row.CreateIndex,
    ModifyIndex: row.ModifyIndex,
  };
}

/** A service as the local agent knows it (`/v1/agent/services`). */
export function agentServiceJson(service: ServiceInput, datacenter: string) {
  return {
    ...(service.Kind ? { Kind: service.Kind } : {}),
    ID: service.ID,
    Service: service.Service,
    Tags: service.Tags,
    Meta: service.Meta,
    Port: service.Port,
    Address: service.Address,
    ...(Object.keys(service.TaggedAddresses).length > 0 ? { TaggedAddresses: service.TaggedAddresses } : {}),
    Weights: service.Weights,
    EnableTagOverride: service.EnableTagOverride,
    ...(service.Proxy ? { Proxy: service.Proxy } : {}),
    ...(service.Connect ? { Connect: service.Connect } : {}),
    Datacenter: datacenter,
  };
}
