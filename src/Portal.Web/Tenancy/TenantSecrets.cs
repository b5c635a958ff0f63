using System.Collections.Concurrent;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>The secrets a tenant's settings refer to, by what they are for.</summary>
public enum TenantSecret
{
    /// <summary><c>Idp:ApiTokenSecret</c>: the Okta API token, or the Entra app's client secret or key.</summary>
    IdpCredential,

    /// <summary><c>Idp:Entra:PushConnector:ClientSecretSecret</c>: the Entra MFA connector's client secret.</summary>
    EntraPushConnector,

    /// <summary><c>StepUp:ClientSecretSecret</c>: the caller step-up client's secret.</summary>
    StepUpClient,

    /// <summary><c>Recovery:Notices:Smtp:PasswordSecret</c>: the password of the tenant's SMTP relay for recovery notices.</summary>
    RecoveryNoticeRelay,
}

/// <summary>
/// Resolves a tenant's secrets by the tenant's id, whichever way its settings came (configuration or the store), and
/// keeps each resolved value for <see cref="Lifetime"/> so an IdP call does not re-read a secret file or variable;
/// a rotated secret is used within that time. A failure names the tenant and the setting.
/// </summary>
public sealed class TenantSecrets(ISecretResolver secrets, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, (string Value, DateTimeOffset Until)> _resolved = new(StringComparer.Ordinal);

    public string Resolve(TenantSettings tenant, TenantSecret secret)
    {
        var (reference, setting) = secret switch
        {
            TenantSecret.IdpCredential => (tenant.Idp.ApiTokenSecret, "Idp:ApiTokenSecret"),
            TenantSecret.EntraPushConnector => (tenant.Idp.Entra.PushConnector.ClientSecretSecret, "Idp:Entra:PushConnector:ClientSecretSecret"),
            TenantSecret.StepUpClient => (tenant.StepUp.ClientSecretSecret, "StepUp:ClientSecretSecret"),
            TenantSecret.RecoveryNoticeRelay => (tenant.Recovery.Notices.Smtp.PasswordSecret, "Recovery:Notices:Smtp:PasswordSecret"),
            _ => throw new ArgumentOutOfRangeException(nameof(secret), secret, null),
        };
        reference ??= "";

        var now = clock.GetUtcNow();
        if (_resolved.TryGetValue(reference, out var kept) && kept.Until > now)
        {
            return kept.Value;
        }

        var value = secrets.Resolve(reference, $"The setting {setting} of tenant '{tenant.Id}'");
        _resolved[reference] = (value, now + Lifetime);
        return value;
    }

    /// <summary>Drops the tenant's kept values, so the next use reads them again (a connection check after a rotation).</summary>
    public void Forget(TenantSettings tenant)
    {
        foreach (var reference in new[] { tenant.Idp.ApiTokenSecret, tenant.Idp.Entra.PushConnector.ClientSecretSecret, tenant.StepUp.ClientSecretSecret, tenant.Recovery.Notices.Smtp.PasswordSecret })
        {
            _resolved.TryRemove(reference ?? "", out _);
        }
    }
}
