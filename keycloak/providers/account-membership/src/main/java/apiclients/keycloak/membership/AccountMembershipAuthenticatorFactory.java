package apiclients.keycloak.membership;

import java.util.List;
import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.AuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

/** Registers {@link AccountMembershipAuthenticator} (META-INF/services) under {@value #PROVIDER_ID}. */
public final class AccountMembershipAuthenticatorFactory implements AuthenticatorFactory {

    /** The execution's provider id in keycloak/setup/api-clients.json. */
    public static final String PROVIDER_ID = "api-clients-account-membership";

    private static final AccountMembershipAuthenticator SINGLETON = new AccountMembershipAuthenticator();

    private static final AuthenticationExecutionModel.Requirement[] REQUIREMENT_CHOICES = {
        AuthenticationExecutionModel.Requirement.REQUIRED, AuthenticationExecutionModel.Requirement.DISABLED
    };

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return SINGLETON;
    }

    @Override
    public String getDisplayType() {
        return "API clients: account membership";
    }

    @Override
    public String getHelpText() {
        return "For a client with the attribute api-clients.account, refuses any user who is not a member of the group"
                + " /accounts/<account>. Other clients pass. Place it after the user is identified (cookie or forms).";
    }

    @Override
    public String getReferenceCategory() {
        return null;
    }

    @Override
    public boolean isConfigurable() {
        return false;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }

    @Override
    public AuthenticationExecutionModel.Requirement[] getRequirementChoices() {
        return REQUIREMENT_CHOICES;
    }

    @Override
    public boolean isUserSetupAllowed() {
        return false;
    }

    @Override
    public void init(Config.Scope config) {}

    @Override
    public void postInit(KeycloakSessionFactory factory) {}

    @Override
    public void close() {}
}
