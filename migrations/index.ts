import { Initial1795917779327 } from './1795917779327-initial.js';

/** In order of application. Committed migrations are never rewritten; add a new one instead. */
export const MIGRATIONS = [Initial1795917779327];
