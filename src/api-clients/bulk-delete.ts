// Bulk delete: one result per requested id, in the order sent, a few deletes at a time (Keycloak
// deletes are not free). A clientId of another account, or one already gone, is not-found.
import type { ClientsGateway } from '../keycloak/clients-gateway.js';
import { isNotFound } from '../keycloak/errors.js';
import type { Directory } from './directory.js';
import type { BulkDeleteStatus } from './schema.js';

const CONCURRENCY = 4;

export async function bulkDelete(
  gateway: ClientsGateway,
  directory: Directory,
  accountId: string,
  clientIds: string[],
): Promise<{ results: { clientId: string; status: BulkDeleteStatus }[] }> {
  const owned = new Map(
    (await directory.accountClients(accountId)).map((rep) => [rep.clientId as string, rep.id as string]),
  );
  const statuses = new Array<BulkDeleteStatus>(clientIds.length).fill('failed');
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < clientIds.length; index = next++) {
      const clientId = clientIds[index] as string;
      const id = owned.get(clientId);
      if (!id) {
        statuses[index] = 'not-found';
        continue;
      }
      try {
        await gateway.remove(id);
        directory.forget(clientId);
        statuses[index] = 'deleted';
      } catch (error) {
        statuses[index] = isNotFound(error) ? 'not-found' : 'failed';
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, clientIds.length) }, worker));
  return {
    results: clientIds.map((clientId, index) => ({ clientId, status: statuses[index] as BulkDeleteStatus })),
  };
}
