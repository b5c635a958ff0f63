namespace Portal.Web.Tenancy;

/// <summary>
/// The fine-grained permissions (docs/tenancy.md, "Permissions and default tiers"). Every route names the one it needs and the check runs on
/// the server on every request; hiding a button is only a convenience.
/// </summary>
public static class Permissions
{
    public const string CallerLookup = "caller.lookup";
    public const string CallerVerify = "caller.verify";
    public const string PasswordReset = "action.password_reset";
    public const string SessionsRevoke = "action.sessions_revoke";
    public const string TapIssue = "action.tap_issue";
    public const string AccountUnlock = "action.account_unlock";
    public const string MfaReset = "action.mfa_reset";
    public const string AuditRead = "audit.read";
    public const string AuditExport = "audit.export";
    public const string UsageRead = "usage.read";
    public const string AdminTiers = "admin.tiers";
    public const string AdminIpAllowlist = "admin.ip_allowlist";
    public const string AdminSettings = "admin.settings";

    public static IReadOnlyList<string> All { get; } =
    [
        CallerLookup, CallerVerify, PasswordReset, SessionsRevoke, TapIssue, AccountUnlock, MfaReset,
        AuditRead, AuditExport, UsageRead, AdminTiers, AdminIpAllowlist, AdminSettings,
    ];

    /// <summary>What a permission lets an agent do, in the words the console uses (an unknown name is returned as is).</summary>
    public static string Describe(string permission) => permission switch
    {
        CallerLookup => "Look up callers",
        CallerVerify => "Verify callers",
        PasswordReset => "Reset passwords",
        SessionsRevoke => "Sign callers out everywhere",
        TapIssue => "Issue temporary access codes",
        AccountUnlock => "Unlock accounts",
        MfaReset => "Reset MFA factors",
        AuditRead => "Read the audit trail",
        AuditExport => "Export the audit trail",
        UsageRead => "Read usage",
        AdminTiers => "Administer tiers and group mappings",
        AdminIpAllowlist => "Administer the IP allow-list",
        AdminSettings => "Administer policy, webhook, API keys and the IdP connection",
        _ => permission,
    };

    /// <summary>The tenant admin console's permissions.</summary>
    public static bool IsAdmin(string permission) => permission is AdminTiers or AdminIpAllowlist or AdminSettings;

    /// <summary>The permissions that reach a caller: look-up, verification and the account actions.</summary>
    public static bool IsCallerOrAction(string permission) =>
        permission.StartsWith("caller.", StringComparison.Ordinal) || permission.StartsWith("action.", StringComparison.Ordinal);
}

/// <summary>A named set of permissions that IdP groups map to.</summary>
public sealed record TierDefinition(string Name, IReadOnlyList<string> Permissions);

/// <summary>The default tiers of a new tenant (docs/tenancy.md); tenant admins can change them.</summary>
public static class DefaultTiers
{
    public const string Tier1 = "Tier 1";
    public const string Tier2 = "Tier 2";
    public const string Tier3 = "Tier 3";
    public const string Auditor = "Auditor";
    public const string TenantAdmin = "Tenant admin";

    public static IReadOnlyList<TierDefinition> All { get; } = Create();

    private static TierDefinition[] Create()
    {
        string[] tier1 = [Permissions.CallerLookup, Permissions.CallerVerify];
        string[] tier2 = [.. tier1, Permissions.PasswordReset, Permissions.SessionsRevoke, Permissions.AccountUnlock];
        string[] tier3 = [.. tier2, Permissions.TapIssue, Permissions.MfaReset];
        string[] auditor = [Permissions.AuditRead, Permissions.AuditExport];
        string[] admin = [Permissions.AdminTiers, Permissions.AdminIpAllowlist, Permissions.AdminSettings, .. auditor, Permissions.UsageRead];
        return
        [
            new(Tier1, tier1),
            new(Tier2, tier2),
            new(Tier3, tier3),
            new(Auditor, auditor),
            new(TenantAdmin, admin),
        ];
    }
}
