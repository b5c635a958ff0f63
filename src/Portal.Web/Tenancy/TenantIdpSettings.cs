using Portal.Idp;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

public sealed class TenantIdpSettings
{
    /// <summary>Start-up checks of <c>Idp</c>, each failure naming its setting; the service app's key is read to check it is one.</summary>
    internal static void Validate(TenantSettings t, string at, List<string> failures, Action<List<string>, string, string> checkUrl, Action<List<string>, string, string> checkSecret, ISecretResolver secrets)
    {
        checkUrl(failures, $"{at}:Idp:BaseUrl", t.Idp.BaseUrl);
        if (t.Idp.Kind == IdpKind.Entra)
        {
            if (!Guid.TryParse(t.Idp.Entra.DirectoryTenantId, out _))
            {
                failures.Add($"{at}:Idp:Entra:DirectoryTenantId must be the Entra directory id (a GUID).");
            }

            if (!Guid.TryParse(t.Idp.Entra.ClientId, out _))
            {
                failures.Add($"{at}:Idp:Entra:ClientId must be the application (client) id, a GUID, of the app registration that calls Microsoft Graph.");
            }

            if (!string.IsNullOrEmpty(t.Idp.Entra.TokenEndpoint))
            {
                checkUrl(failures, $"{at}:Idp:Entra:TokenEndpoint", t.Idp.Entra.TokenEndpoint);
            }

            var push = t.Idp.Entra.PushConnector;
            if (push.Enabled)
            {
                checkSecret(failures, $"{at}:Idp:Entra:PushConnector:ClientSecretSecret", push.ClientSecretSecret);
                foreach (var (endpoint, value) in new[] { ("TokenEndpoint", push.TokenEndpoint), ("ConnectorEndpoint", push.ConnectorEndpoint) })
                {
                    if (!string.IsNullOrEmpty(value))
                    {
                        checkUrl(failures, $"{at}:Idp:Entra:PushConnector:{endpoint}", value);
                    }
                }
            }
        }

        checkSecret(failures, $"{at}:Idp:ApiTokenSecret", t.Idp.ApiTokenSecret);
        var serviceApp = t.Idp.Okta.ServiceApp;
        if (t.Idp.Kind == IdpKind.Okta && !string.IsNullOrWhiteSpace(serviceApp.ClientId))
        {
            if (serviceApp.Scopes.Any(s => string.IsNullOrWhiteSpace(s) || !s.StartsWith("okta.", StringComparison.Ordinal) || s.Any(c => c is ' ' or '"' || char.IsControl(c))))
            {
                failures.Add($"{at}:Idp:Okta:ServiceApp:Scopes must hold Okta API scopes, one per entry (okta.users.read, okta.users.manage, okta.authenticators.read).");
            }

            if (SecretResolver.IsWellFormed(t.Idp.ApiTokenSecret))
            {
                try
                {
                    using var key = System.Security.Cryptography.RSA.Create();
                    key.ImportFromPem(secrets.Resolve(t.Idp.ApiTokenSecret, $"{at}:Idp:ApiTokenSecret"));
                    if (key.KeySize < 2048)
                    {
                        failures.Add($"{at}:Idp:ApiTokenSecret must name the service app's RSA private key of at least 2048 bits (Idp:Okta:ServiceApp is set).");
                    }
                }
                catch (ArgumentException)
                {
                    failures.Add($"{at}:Idp:ApiTokenSecret must name the service app's PEM RSA private key (Idp:Okta:ServiceApp is set).");
                }
                catch (InvalidOperationException)
                {
                    // The missing secret is already reported by CheckSecret.
                }
            }
        }
    }

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
