using Portal.Idp;
using Portal.Idp.Entra;

namespace Portal.Web.Tenancy;

/// <summary>
/// Builds a tenant's connections to its IdP from its settings and resolved credentials: the <see cref="ICallerDirectory"/>
/// (Okta or Entra) and, where the tenant turned it on, the Azure MFA connector of the <c>entra.push</c> method.
/// </summary>
public sealed class TenantDirectories(
    ICallerDirectoryFactory oktaFactory,
    [FromKeyedServices(IdpKind.Entra)] ICallerDirectoryFactory entraFactory,
    IEntraPushChallenge entraPush,
    TenantSecrets secrets,
    TenantConnectionReports reports)
{
    /// <summary>
    /// Sends one Microsoft Authenticator push through the tenant's Azure MFA connector and waits for the answer
    /// (docs/entra.md). Only for a tenant whose <c>Idp:Entra:PushConnector</c> is enabled.
    /// </summary>
    public Task<IdpResult<PushState>> EntraPushAsync(TenantSettings tenant, string userPrincipalName, string callerName, CancellationToken ct)
    {
        var push = tenant.Idp.Entra.PushConnector;
        var connection = new EntraPushConnection(
            tenant.Id,
            tenant.Idp.Entra.DirectoryTenantId,
            secrets.Resolve(tenant, TenantSecret.EntraPushConnector),
            string.IsNullOrEmpty(push.TokenEndpoint) ? null : new Uri(push.TokenEndpoint),
            string.IsNullOrEmpty(push.ConnectorEndpoint) ? null : new Uri(push.ConnectorEndpoint));
        return entraPush.PushAsync(connection, userPrincipalName, callerName, ct);
    }

    public ICallerDirectory For(TenantSettings tenant)
    {
        var credential = secrets.Resolve(tenant, TenantSecret.IdpCredential);
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
