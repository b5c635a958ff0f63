using Microsoft.AspNetCore.DataProtection;
using Portal.Idp;

namespace Portal.Web.Infrastructure;

/// <summary>Builds a tenant's <see cref="ICallerDirectory"/> (Okta or Entra) from its settings and its resolved credential.</summary>
public sealed class TenantDirectories(
    ICallerDirectoryFactory oktaFactory,
    [FromKeyedServices(IdpKind.Entra)] ICallerDirectoryFactory entraFactory,
    ISecretResolver secrets,
    ITenantCatalog tenants,
    TenantConnectionReports reports)
{
    public ICallerDirectory For(TenantSettings tenant)
    {
        var index = tenants.All.ToList().IndexOf(tenant);
        var credential = secrets.Resolve(tenant.Idp.ApiTokenSecret, $"Portal:Tenants:{index}:Idp:ApiTokenSecret");
        var connection = new IdpConnection(tenant.Id, tenant.Idp.Kind, new Uri(tenant.Idp.BaseUrl), credential) { ReadsAuditLog = tenant.Reconciliation.Enabled };
        if (tenant.Idp.Kind == IdpKind.Entra)
        {
            var entra = tenant.Idp.Entra;
            var tokenEndpoint = string.IsNullOrEmpty(entra.TokenEndpoint) ? null : new Uri(entra.TokenEndpoint);
            return entraFactory.Create(connection with { Entra = new EntraAppCredentials(entra.DirectoryTenantId, entra.ClientId, tokenEndpoint) });
        }

        var okta = tenant.Idp.Okta;
        var settings = new OktaConnectionSettings
        {
            TacAuthenticatorId = string.IsNullOrWhiteSpace(okta.TacAuthenticatorId) ? null : okta.TacAuthenticatorId.Trim(),
            // The org's canonical host as this instance's last connection check read it: push poll links on it are trusted too.
            CanonicalBaseUrl = reports.Latest(tenant.Id)?.CanonicalBaseUrl,
            ApiTokenId = string.IsNullOrWhiteSpace(okta.ApiTokenId) ? null : okta.ApiTokenId.Trim(),
        };
        if (!string.IsNullOrWhiteSpace(okta.ServiceApp.ClientId))
        {
            var app = okta.ServiceApp;
            var scopes = app.Scopes.Count > 0 ? app.Scopes.Select(s => s.Trim()).ToList() : OktaServiceAppScopes.Default(settings.TacAuthenticatorId, tenant.Reconciliation.Enabled);
            settings = settings with { ServiceApp = new OktaServiceApp(app.ClientId.Trim(), scopes, string.IsNullOrWhiteSpace(app.KeyId) ? null : app.KeyId.Trim(), app.Dpop) };
        }

        return oktaFactory.Create(connection with { Okta = settings });
    }
}

/// <summary>
/// Encrypts the caller's IdP id for the two places it must travel: the console's forms (time-limited, bound
/// to the agent session that looked the caller up) and the short-lived verification records. The browser
/// and the store see ciphertext only.
/// </summary>
public sealed class CallerReferences(IDataProtectionProvider provider)
{
    private static readonly TimeSpan FormLifetime = TimeSpan.FromMinutes(30);

    private readonly ITimeLimitedDataProtector _forms = provider.CreateProtector("Portal.CallerReference.Form.v1").ToTimeLimitedDataProtector();
    private readonly IDataProtector _atRest = provider.CreateProtector("Portal.CallerReference.AtRest.v1");

    public string ForForm(AgentContext agent, string callerId, string maskedLogin) =>
        _forms.Protect(string.Join('\n', agent.TenantId, agent.SessionId, callerId, maskedLogin), FormLifetime);

    /// <summary>The caller a form names, or null when the reference is forged, expired, or belongs to another agent session.</summary>
    public (string CallerId, string MaskedLogin)? FromForm(AgentContext agent, string? reference)
    {
        if (string.IsNullOrEmpty(reference) || reference.Length > 4096)
        {
            return null;
        }

        try
        {
            var parts = _forms.Unprotect(reference).Split('\n');
            return parts.Length == 4 && parts[0] == agent.TenantId && parts[1] == agent.SessionId ? (parts[2], parts[3]) : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    public string AtRest(string tenantId, string value) => _atRest.Protect(tenantId + "\n" + value);

    public string? FromRest(string tenantId, string protectedValue)
    {
        try
        {
            var parts = _atRest.Unprotect(protectedValue).Split('\n', 2);
            return parts.Length == 2 && parts[0] == tenantId ? parts[1] : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}

/// <summary>Present only when the embedded emulator runs: the layout shows a demo banner linking the caller's phone.</summary>
public sealed record DemoInfo(Uri PhoneUrl);
