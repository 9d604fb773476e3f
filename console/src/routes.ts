// The console's routes, in the hash: #/acme, #/acme/new, #/acme/clients/acme_x,
// #/acme/clients/acme_x/activity, #/acme/history.
export const routeTo = {
  list: (account: string) => `#/${encodeURIComponent(account)}`,
  create: (account: string) => `#/${encodeURIComponent(account)}/new`,
  edit: (account: string, clientId: string) =>
    `#/${encodeURIComponent(account)}/clients/${encodeURIComponent(clientId)}`,
  activity: (account: string, clientId: string) =>
    `#/${encodeURIComponent(account)}/clients/${encodeURIComponent(clientId)}/activity`,
  history: (account: string) => `#/${encodeURIComponent(account)}/history`,
};

/** Reports a result to the page's polite live region. */
export type Announce = (message: string) => void;
