package apiclients.keycloak.membership;

import jakarta.ws.rs.core.Response;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.Authenticator;
import org.keycloak.events.Errors;
import org.keycloak.models.ClientModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * Refuses, at login, a user who is not a member of the account of the client they log in to.
 *
 * <p>A client the API Clients service manages carries the attribute {@code api-clients.account}
 * (src/api-clients/resource/mapping.ts); the account is the group {@code /accounts/<account>}.
 * For such a client, the user must be a member of that group or of a group below it; anyone
 * else gets Keycloak's error page (403, event error {@code access_denied}) and no authorization code:
 * the flow stops at this step. Any other client is left alone.
 *
 * <p>It must run after the user is known, on every path: in the flow "api-clients browser"
 * (keycloak/setup/api-clients.json) it is a REQUIRED step after a REQUIRED sub-flow in which
 * Keycloak's {@code CookieAuthenticator} (SSO), the identity-provider redirector and the login
 * forms are the alternatives. The check walks the user's own groups (a handful), never the
 * realm's groups (thousands of accounts): its cost does not grow with the number of accounts.
 */
public final class AccountMembershipAuthenticator implements Authenticator {

    /** The attribute that marks a managed client and names its account. */
    static final String ACCOUNT_ATTRIBUTE = "api-clients.account";
    /** The top-level group whose sub-groups are the accounts. */
    static final String ACCOUNTS_GROUP = "accounts";
    /** Shown on Keycloak's error page (no apostrophe: the theme formats it as a MessageFormat). */
    static final String REFUSED_MESSAGE = "This application admits only the members of its account.";

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        ClientModel client = context.getAuthenticationSession().getClient();
        String account = client == null ? null : client.getAttribute(ACCOUNT_ATTRIBUTE);
        if (account == null || account.isBlank()) {
            context.success();
            return;
        }
        UserModel user = context.getUser();
        if (user != null && isMember(user, account)) {
            context.success();
            return;
        }
        context.getEvent().detail("api_clients_account", account).error(Errors.ACCESS_DENIED);
        // A challenge that stops the flow here, not context.failure(...): Keycloak's
        // DefaultAuthenticationFlow counts a FAILED step as a failed login for brute-force
        // protection, so an app that bounces another account's users to its login (prompt=none
        // included) could get them temporarily locked out of every client. Their password was right.
        // Without a passive prompt Keycloak shows this page; with prompt=none it answers an error
        // redirect. No code either way.
        Response page = context.form().setError(REFUSED_MESSAGE).createErrorPage(Response.Status.FORBIDDEN);
        context.forceChallenge(page);
    }

    /** A member of /accounts/{account} or of a group below it. */
    static boolean isMember(UserModel user, String account) {
        return user.getGroupsStream().anyMatch(group -> isInAccount(group, account));
    }

    private static boolean isInAccount(GroupModel group, String account) {
        for (GroupModel g = group; g != null; g = g.getParent()) {
            GroupModel parent = g.getParent();
            if (parent != null
                    && parent.getParent() == null
                    && ACCOUNTS_GROUP.equals(parent.getName())
                    && account.equals(g.getName())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        // a post to the refusal page's flow URL: the same answer
        authenticate(context);
    }

    @Override
    public boolean requiresUser() {
        // it refuses a missing user itself, for a managed client only
        return false;
    }

    @Override
    public boolean configuredFor(KeycloakSession session, RealmModel realm, UserModel user) {
        return true;
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
        // none
    }

    @Override
    public void close() {
        // stateless
    }
}
