// Seeds the realm straight through Keycloak's admin API (not through the service): many accounts
// of a few clients each, carrying the attributes the service writes, several calls in flight
// over keep-alive connections.
import { setTimeout as sleep } from 'node:timers/promises';
import { type AdminApi, serviceLikeRepresentation } from './keycloak.js';

export interface SeedPlan {
  /** Seeded account ids are `bs-{runTag}-{n}`: unique per run, so a reused Keycloak never conflicts. */
  runTag: string;
  clientsPerAccount: number;
  concurrency: number;
}

export interface SeedBatch {
  created: number;
  seconds: number;
  perSecond: number;
}

export class Seeder {
  /** Internal ids of every client seeded so far (to remove them from a reused Keycloak). */
  readonly ids: string[] = [];
  #next = 0;

  constructor(
    readonly admin: AdminApi,
    readonly plan: SeedPlan,
    readonly signal: AbortSignal,
  ) {}

  get seeded(): number {
    return this.#next;
  }

  /** Creates `count` more clients, continuing the numbering of earlier batches. */
  async grow(count: number, log: (line: string) => void): Promise<SeedBatch> {
    const end = this.#next + count;
    const started = performance.now();
    let done = 0;
    let lastReport = started;
    const worker = async () => {
      for (;;) {
        this.signal.throwIfAborted();
        const index = this.#next;
        if (index >= end) return;
        this.#next += 1;
        const accountId = `bs-${this.plan.runTag}-${Math.floor(index / this.plan.clientsPerAccount)}`;
        const clientId = `${accountId}_${index % this.plan.clientsPerAccount}`;
        const rep = serviceLikeRepresentation(clientId, accountId, { capabilityTypes: ['WebApp'] });
        this.ids.push(await this.#createWithRetry(rep));
        done += 1;
        const now = performance.now();
        if (now - lastReport > 5000) {
          lastReport = now;
          log(`[seed] ${done}/${count} (${((done * 1000) / (now - started)).toFixed(0)}/s)`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.plan.concurrency, count) }, worker));
    const seconds = (performance.now() - started) / 1000;
    return { created: count, seconds, perSecond: seconds > 0 ? count / seconds : 0 };
  }

  async #createWithRetry(rep: Parameters<AdminApi['createClient']>[0]): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.admin.createClient(rep);
      } catch (error) {
        if (attempt >= 4 || this.signal.aborted) throw error;
        // a retry after a timeout may find the client already there
        const id = await this.admin.findIdByClientId(rep.clientId as string).catch(() => undefined);
        if (id) return id;
        await sleep(250 * attempt);
      }
    }
  }

  /**
   * Removes every seeded client, several at a time, within `deadlineMs`; answers how many are
   * left. `admin` is a connection made for the clean-up (the run's own may be aborted by then).
   */
  async removeAll(admin: AdminApi, deadlineMs: number): Promise<number> {
    const deadline = Date.now() + deadlineMs;
    const queue = [...this.ids];
    const worker = async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
        if (Date.now() > deadline || admin.signal.aborted) {
          queue.push(id);
          return;
        }
        await admin.deleteClient(id).catch(() => queue.unshift(id));
      }
    };
    await Promise.all(Array.from({ length: this.plan.concurrency }, worker));
    return queue.length;
  }
}
