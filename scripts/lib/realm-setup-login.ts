// The login rule of SPEC §5, "a WebApp client admits only its account's users", installed on an
// existing realm (docs/security-boundary.md): the flow "api-clients browser" of
// keycloak/setup/api-clients.json, built through the admin API (Keycloak's
// AuthenticationManagementResource: POST /authentication/flows, .../executions/flow,
// .../executions/execution, PUT .../executions, POST /authentication/executions/{id}/config),
// then bound as the realm's browser flow in place of Keycloak's built-in `browser`.
// Like the rest of the setup it adds and never removes: a flow of that name is left as it is (and
// reported when it lacks the check), and a browser flow of the operator's own is not replaced.
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import type { AuthenticationFlowData, RealmSetup } from './realm-files.js';

type Change = (what: string, write: () => Promise<unknown>) => Promise<void>;

/** The authenticator of keycloak/providers/account-membership (AccountMembershipAuthenticatorFactory). */
export const MEMBERSHIP_AUTHENTICATOR = 'api-clients-account-membership';
/** Keycloak's own browser flow (DefaultAuthenticationFlows.BROWSER_FLOW), which the setup replaces. */
const BUILT_IN_BROWSER_FLOW = 'browser';

const byPriority = (flow: AuthenticationFlowData) =>
  [...flow.authenticationExecutions].sort((a, b) => a.priority - b.priority);

/** Creates `flow` (top level) with its steps and sub-flows, as the realm import would. */
async function createFlow(
  kc: KeycloakAdminClient,
  setup: RealmSetup,
  flow: AuthenticationFlowData,
): Promise<void> {
  const { alias, description = '', providerId } = flow;
  await kc.authenticationManagement.createFlow({
    alias,
    description,
    providerId,
    topLevel: true,
    builtIn: false,
  });
  await addSteps(kc, setup, flow);
}

async function addSteps(
  kc: KeycloakAdminClient,
  setup: RealmSetup,
  flow: AuthenticationFlowData,
): Promise<void> {
  const steps = byPriority(flow);
  for (const step of steps) {
    if (step.authenticatorFlow) {
      const sub = setup.authenticationFlows.find((f) => f.alias === step.flowAlias);
      if (!sub) throw new Error(`keycloak/setup/api-clients.json: no flow ${step.flowAlias}`);
      await kc.authenticationManagement.addFlowToFlow({
        flow: flow.alias,
        alias: sub.alias,
        type: sub.providerId,
        provider: 'registration-page-form', // what the admin console sends; unused for a basic-flow
        description: sub.description ?? '',
      });
      await addSteps(kc, setup, sub);
    } else {
      await kc.authenticationManagement.addExecutionToFlow({
        flow: flow.alias,
        provider: step.authenticator as string,
      });
    }
  }
  // Keycloak adds each step DISABLED: set the requirements, and the configurations, in order
  const added = (await kc.authenticationManagement.getExecutions({ flow: flow.alias }))
    .filter((info) => info.level === 0)
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  for (const [at, step] of steps.entries()) {
    const info = added[at];
    if (!info?.id) throw new Error(`flow ${flow.alias}: step ${at} is missing after create`);
    if (info.requirement !== step.requirement)
      await kc.authenticationManagement.updateExecution(
        { flow: flow.alias },
        { ...info, requirement: step.requirement },
      );
    if (step.authenticatorConfig) {
      const config = setup.authenticatorConfig.find((c) => c.alias === step.authenticatorConfig);
      if (!config)
        throw new Error(
          `keycloak/setup/api-clients.json: no authenticator config ${step.authenticatorConfig}`,
        );
      await kc.authenticationManagement.createConfig({
        id: info.id,
        alias: config.alias,
        config: config.config,
      });
    }
  }
}

/** The warning for a flow of that name whose top level is not "identify (REQUIRED), then the check (REQUIRED)". */
async function checkExistingFlow(kc: KeycloakAdminClient, alias: string): Promise<string | undefined> {
  const top = (await kc.authenticationManagement.getExecutions({ flow: alias }))
    .filter((info) => info.level === 0)
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const check = top.findIndex((info) => info.providerId === MEMBERSHIP_AUTHENTICATOR);
  const sound =
    check > 0 &&
    top[check]?.requirement === 'REQUIRED' &&
    top.slice(0, check).every((info) => info.requirement === 'REQUIRED');
  return sound
    ? undefined
    : `login flow ${alias} exists but does not end in a REQUIRED ${MEMBERSHIP_AUTHENTICATOR} after REQUIRED steps: ` +
        'managed clients may admit users of other accounts; delete the flow and run setup-realm again';
}

export async function applyLoginFlowSetup(
  kc: KeycloakAdminClient,
  realm: string,
  setup: RealmSetup,
  change: Change,
  warn: (warning: string) => void,
): Promise<{ flowId: string | undefined }> {
  const alias = setup.browserFlow;
  const flow = setup.authenticationFlows.find((f) => f.alias === alias && f.topLevel);
  if (!flow)
    throw new Error(
      `keycloak/setup/api-clients.json: browserFlow ${alias} is not one of its top-level flows`,
    );

  const providers = (await kc.authenticationManagement.getAuthenticatorProviders()) as { id?: string }[];
  if (!providers.some((provider) => provider.id === MEMBERSHIP_AUTHENTICATOR)) {
    throw new Error(
      `the Keycloak server lacks the authenticator ${MEMBERSHIP_AUTHENTICATOR}: put the jar of ` +
        'keycloak/providers/account-membership into its providers/ and run kc.sh build (docs/security-boundary.md)',
    );
  }

  const found = (await kc.authenticationManagement.getFlows()).find((f) => f.alias === alias);
  if (found) {
    const warning = await checkExistingFlow(kc, alias);
    if (warning) warn(warning);
  } else {
    await change(
      `create login flow "${alias}" (Keycloak's browser flow, then ${MEMBERSHIP_AUTHENTICATOR})`,
      () => createFlow(kc, setup, flow),
    );
  }

  const current = (await kc.realms.findOne({ realm }))?.browserFlow;
  if (current === BUILT_IN_BROWSER_FLOW) {
    await change(`bind login flow "${alias}" as the realm's browser flow (was "${current}")`, () =>
      kc.realms.update({ realm }, { browserFlow: alias }),
    );
  } else if (current !== alias) {
    warn(
      `the realm's browser flow is "${current}", not Keycloak's built-in "browser": left as it is, so managed clients ` +
        `admit users of other accounts until it ends in a REQUIRED ${MEMBERSHIP_AUTHENTICATOR} step after the user is ` +
        `identified (see "${alias}"; docs/security-boundary.md)`,
    );
  }
  const flowId = (await kc.authenticationManagement.getFlows()).find((f) => f.alias === alias)?.id;
  return { flowId };
}
