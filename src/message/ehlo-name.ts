import { hostname } from 'node:os';
import { domainOf, isDubiousEhloName } from '../config/ehlo-name.js';
import { SENDER_CACHE_MAX } from './sender.js';

/** The EHLO name used when the sender's domain does not give one: never localhost, never dotless. */
export const FALLBACK_EHLO_NAME = ((): string => {
  const name = hostname();
  return name && !isDubiousEhloName(name) ? name.toLowerCase() : '[127.0.0.1]';
})();

const ehloNames = new Map<string, string>();

/** The EHLO name for a sender: its domain, else the fallback. Cached per sender. */
export function ehloNameFromSender(from: string | undefined): string {
  if (!from) return FALLBACK_EHLO_NAME;
  let name = ehloNames.get(from);
  if (name === undefined) {
    name = domainOf(from) || FALLBACK_EHLO_NAME;
    if (ehloNames.size >= SENDER_CACHE_MAX) ehloNames.clear();
    ehloNames.set(from, name);
  }
  return name;
}
