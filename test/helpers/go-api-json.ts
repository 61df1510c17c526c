// The JSON Consul's Go api package writes for values a watch hands its handler, built field by field in the
// api structs' order from what the HTTP API answered, so tests state independently what a handler must get.

export interface ApiKvPair {
  Key: string;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Flags: number;
  Value: string | null;
  Session?: string;
}

/** api.KVPair as json.Marshal writes it. */
export function goKvPair(p: ApiKvPair): string {
  return JSON.stringify({
    Key: p.Key,
    CreateIndex: p.CreateIndex,
    ModifyIndex: p.ModifyIndex,
    LockIndex: p.LockIndex,
    Flags: p.Flags,
    Value: p.Value,
    Session: p.Session ?? '',
  });
}

export interface ApiEvent {
  ID: string;
  Name: string;
  Payload: string | null;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
  LTime: number;
}

/** api.UserEvent as json.Marshal writes it. */
export function goEvent(e: ApiEvent): string {
  return JSON.stringify({
    ID: e.ID,
    Name: e.Name,
    Payload: e.Payload,
    NodeFilter: e.NodeFilter,
    ServiceFilter: e.ServiceFilter,
    TagFilter: e.TagFilter,
    Version: e.Version,
    LTime: e.LTime,
  });
}
