// Request bodies the tests create clients with.

/** The smallest valid create: a Script client (client credentials), with any other members given. */
export const scriptClient = (
  clientId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  clientId,
  capabilityTypes: ['Script'],
  ...extra,
});
