using Microsoft.AspNetCore.DataProtection;
using Portal.Web.Agents;

namespace Portal.Web.Verification;

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
