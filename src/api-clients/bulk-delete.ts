// Bulk delete: one result per requested id, in the order sent, a few deletes at a time (Keycloak
// deletes are not free). A clientId of another account, or one already gone, is not-found.
import type { ClientRepresentation, ClientsGateway } from '../keycloak/clients-gateway.js';
import { isNotFound } from '../keycloak/errors.js';
import { mapLimited } from '../lib/map-limited.js';
import type { Directory } from './access/directory.js';
import { type Actor, changeRecord, recordAttribute } from './activity/history.js';
import { updateLeavingExpiredSecret } from './credentials/expired-secret.js';
import type { BulkDeleteStatus } from './resource/schema-operations.js';

const CONCURRENCY = 4;

export async function bulkDelete(
  gateway: ClientsGateway,
  directory: Directory,
  accountId: string,
  clientIds: string[],
  actor: Actor,
  /** After each delete: a federated client's identity provider may have no client left. */
  afterDelete: (rep: ClientRepresentation) => Promise<void> = async () => {},
): Promise<{ results: { clientId: string; status: BulkDeleteStatus }[] }> {
  const owned = new Map(
    (await directory.accountClients(accountId)).map((rep) => [rep.clientId as string, rep]),
  );
  const statuses = await mapLimited(clientIds, CONCURRENCY, async (clientId): Promise<BulkDeleteStatus> => {
    const rep = owned.get(clientId);
    if (!rep?.id) return 'not-found';
    try {
      const id = rep.id;
      // who deleted it, recorded first (activity/history.ts)
      await updateLeavingExpiredSecret(gateway, id, rep, {
        attributes: recordAttribute(changeRecord('deleted', accountId, clientId, actor)),
      });
      await gateway.remove(id);
      directory.forget(clientId);
      await afterDelete(rep);
      return 'deleted';
    } catch (error) {
      return isNotFound(error) ? 'not-found' : 'failed';
    }
  });
  return {
    results: clientIds.map((clientId, index) => ({ clientId, status: statuses[index] as BulkDeleteStatus })),
  };
}
