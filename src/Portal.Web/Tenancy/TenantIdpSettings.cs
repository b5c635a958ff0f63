using Portal.Idp;

namespace Portal.Web.Tenancy;

public sealed class TenantIdpSettings
{
    public IdpKind Kind { get; set; } = IdpKind.Okta;

    /// <summary>The Okta org URL (https://acme.okta.com/).</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>
    /// Reference to the API credential (<c>env:NAME</c> or <c>file:/path</c>): the Okta API token, or for Entra
    /// the client secret of the app registration that calls Microsoft Graph.
    /// </summary>
    public string ApiTokenSecret { get; set; } = "";

    /// <summary>For Entra: the app registration that gets the app-only Microsoft Graph token.</summary>
    public EntraAppSettings Entra { get; set; } = new();

    /// <summary>For Okta: optional settings of the org connection.</summary>
    public OktaIdpSettings Okta { get; set; } = new();
}

public sealed class OktaIdpSettings
{
    /// <summary>The id of the org's Temporary Access Code authenticator; when set, the portal does not list authenticators (no okta.authenticators.read needed).</summary>
    public string TacAuthenticatorId { get; set; } = "";

    /// <summary>An Okta OAuth 2.0 API service app instead of an SSWS token (then <c>Idp:ApiTokenSecret</c> names its PEM private key).</summary>
    public OktaServiceAppSettings ServiceApp { get; set; } = new();

    /// <summary>
    /// The id (<c>00T…</c>) of the SSWS API token the portal uses, not the token: the System Log names it on the portal's
    /// own actions. Needed for reconciliation with an API token; not secret.
    /// </summary>
    public string ApiTokenId { get; set; } = "";
}

/// <summary>An Okta API service app: client credentials with <c>private_key_jwt</c> (docs/configuration.md).</summary>
public sealed class OktaServiceAppSettings
{
    /// <summary>The app's client id; empty: the tenant uses an SSWS API token.</summary>
    public string ClientId { get; set; } = "";

    /// <summary>The <c>kid</c> of the public key registered with the app (Okta needs it when the app has several keys).</summary>
    public string KeyId { get; set; } = "";

    /// <summary>The scopes to request; empty: <c>okta.users.read okta.users.manage</c>, plus <c>okta.authenticators.read</c> without a TAC authenticator id.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The app requires DPoP-bound tokens (Okta's default for a new service app).</summary>
    public bool Dpop { get; set; } = true;
}

public sealed class EntraAppSettings
{
    /// <summary>The Entra directory (tenant) id, a GUID.</summary>
    public string DirectoryTenantId { get; set; } = "";

    public string ClientId { get; set; } = "";

    /// <summary>Only to point at an emulator; empty means login.microsoftonline.com.</summary>
    public string TokenEndpoint { get; set; } = "";

    /// <summary>Microsoft Authenticator push through the Azure MFA connector: unsupported by Microsoft, off unless turned on.</summary>
    public EntraPushConnectorSettings PushConnector { get; set; } = new();
}

/// <summary>
/// The Azure MFA connector (<c>entra.push</c>). Unsupported by Microsoft and without number matching, so it is off by
/// default and accepted only by actions whose tenant policy (<c>ActionMethods</c>) names <c>entra.push</c>.
/// </summary>
public sealed class EntraPushConnectorSettings
{
    public bool Enabled { get; set; }

    /// <summary>Reference (<c>env:NAME</c> or <c>file:/path</c>) to the client secret added to the MFA app's service principal.</summary>
    public string ClientSecretSecret { get; set; } = "";

    /// <summary>Only to point at an emulator; empty means https://login.microsoftonline.com/{directory}/oauth2/token.</summary>
    public string TokenEndpoint { get; set; } = "";

    /// <summary>Only to point at an emulator; empty means Microsoft's BeginTwoWayAuthentication address.</summary>
    public string ConnectorEndpoint { get; set; } = "";
}
