// The agent's local-service endpoints, which answer 200 with an empty body on success.
import { type ApiClient, pathEscape } from '../api/client.ts';
import type { ServiceRegistration } from './service-definitions.ts';

export function registerService(api: ApiClient, service: ServiceRegistration): Promise<void> {
  return api.putIgnoringBody('/v1/agent/service/register', { body: service });
}

export function deregisterService(api: ApiClient, id: string): Promise<void> {
  return api.putIgnoringBody(`/v1/agent/service/deregister/${pathEscape(id)}`);
}
