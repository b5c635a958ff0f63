using Portal.Idp;

namespace Portal.Web.Tenancy;

/// <summary>
/// Reconciliation of one tenant (section <c>Portal:Tenants:{i}:Reconciliation</c>): reading the IdP's own audit log for
/// helpdesk actions done outside the portal (docs/audit.md, "Outside the portal"). Off unless turned on: it needs an
/// extra IdP right (Okta <c>okta.logs.read</c>; Graph <c>AuditLog.Read.All</c>).
/// </summary>
public sealed class ReconciliationSettings
{
    public bool Enabled { get; set; }

    /// <summary>How often the log is read. One instance at a time reads it (a lease in the store).</summary>
    public int PollSeconds { get; set; } = 60;

    /// <summary>How far back the very first read of a tenant's log goes.</summary>
    public int LookbackMinutes { get; set; } = 60;

    /// <summary>
    /// The kinds of outside action that raise the tenant's alarm (the alert webhook), by name (<see cref="AccountActionKind"/>,
    /// e.g. <c>PasswordReset</c>). Empty: every kind. Each is recorded in the audit either way.
    /// </summary>
    public List<string> AlarmOn { get; set; } = [];

    public bool Alarms(AccountActionKind kind) =>
        AlarmOn.Count == 0 || AlarmOn.Any(k => string.Equals(k, kind.ToString(), StringComparison.OrdinalIgnoreCase));

    internal static void Validate(TenantSettings tenant, string at, List<string> failures)
    {
        var settings = tenant.Reconciliation;
        if (!settings.Enabled)
        {
            return;
        }

        if (settings.PollSeconds is < 10 or > 3600)
        {
            failures.Add($"{at}:Reconciliation:PollSeconds must be between 10 and 3600.");
        }

        if (settings.LookbackMinutes is < 1 or > 7 * 24 * 60)
        {
            failures.Add($"{at}:Reconciliation:LookbackMinutes must be between 1 and 10080 (7 days: Entra Free keeps its audit log 7 days).");
        }

        foreach (var kind in settings.AlarmOn.Where(k => !Enum.GetNames<AccountActionKind>().Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            failures.Add($"{at}:Reconciliation:AlarmOn holds '{kind}', which is not one of {string.Join(", ", Enum.GetNames<AccountActionKind>())}.");
        }

        var okta = tenant.Idp.Okta;
        if (tenant.Idp.Kind == IdpKind.Okta && string.IsNullOrWhiteSpace(okta.ServiceApp.ClientId))
        {
            // An SSWS token acts as the admin who created it: only the token's id in the System Log tells the portal's
            // own actions from that admin's at the Admin Console.
            if (string.IsNullOrWhiteSpace(okta.ApiTokenId))
            {
                failures.Add($"{at}:Idp:Okta:ApiTokenId must be set when reconciliation is on with an API token: the System Log names the token's id (00T…) on the portal's own actions (Okta Admin Console, Security > API > Tokens).");
            }
            else if (!OktaTokenId(okta.ApiTokenId.Trim()))
            {
                failures.Add($"{at}:Idp:Okta:ApiTokenId must be an Okta API token id (00T followed by letters and digits).");
            }
        }
    }

    private static bool OktaTokenId(string id) =>
        id.Length is >= 10 and <= 40 && id.StartsWith("00T", StringComparison.Ordinal) && id.All(char.IsAsciiLetterOrDigit);
}
