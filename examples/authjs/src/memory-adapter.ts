import type { Adapter, AdapterUser, VerificationToken } from '@auth/core/adapters';

/** The adapter methods an e-mail sign-in needs, kept in memory. A real app uses its database's adapter. */
export function memoryAdapter(): Adapter {
  const users = new Map<string, AdapterUser>();
  const tokens = new Map<string, VerificationToken>();
  return {
    async createUser(user) {
      const created = { ...user, id: crypto.randomUUID() };
      users.set(created.id, created);
      return created;
    },
    async getUser(id) {
      return users.get(id) ?? null;
    },
    async getUserByEmail(email) {
      return [...users.values()].find((u) => u.email === email) ?? null;
    },
    async getUserByAccount() {
      return null;
    },
    async updateUser(user) {
      const updated = { ...users.get(user.id)!, ...user };
      users.set(updated.id, updated);
      return updated;
    },
    async linkAccount() {
      return undefined;
    },
    async createVerificationToken(token) {
      tokens.set(`${token.identifier}:${token.token}`, token);
      return token;
    },
    async useVerificationToken({ identifier, token }) {
      const key = `${identifier}:${token}`;
      const found = tokens.get(key) ?? null;
      tokens.delete(key);
      return found;
    },
  };
}
