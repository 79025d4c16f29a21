/** The registry's admin part (users, sessions, audit), or `unsupported` when this registry has none. */
import type { AdminRegistry, Registry } from '../core/ports.ts';
import { ControlError } from './errors.ts';

export function adminRegistry(registry: Registry): Registry & AdminRegistry {
  if (!registry.createAdminUser || !registry.getAdminSession || !registry.appendAudit || !registry.listAudit) {
    throw new ControlError('unsupported', 'This registry does not store admin users: the admin API needs the SQLite or MongoDB registry.');
  }
  return registry as Registry & AdminRegistry;
}
