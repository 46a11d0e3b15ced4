import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Role, Whoami } from './api.js';

export interface Session extends Whoami {
  /** false when the hub could not say the role (no /api/v1/whoami): buttons show, a 403 explains. */
  roleKnown: boolean;
}

export const SessionContext = createContext<Session | null>(null);

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether the signed-in token may do what needs `role` (an unknown role may try). */
export function useCan(role: Role): boolean {
  const session = useContext(SessionContext);
  if (!session) return false;
  return !session.roleKnown || RANK[session.role] >= RANK[role];
}
