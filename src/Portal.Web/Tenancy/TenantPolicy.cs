using System.Text.Json;
using Portal.Idp;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>
/// The part of a tenant's settings its admins edit in the console, as stored in the document
/// <c>tenants/{tenantId}</c>. Configuration seeds it once; from then on the store is the source of truth.
/// The IdP connection and agent sign-in stay in configuration: they hold secret references and define the
/// sign-in schemes, which an admin of the tenant must not be able to repoint.
/// </summary>
public sealed class TenantPolicy
{
    public List<TierSettings> Tiers { get; set; } = [];

    /// <summary>Pairs rather than a map, so that group names with any characters stay plain values in every backend.</summary>
    public List<GroupTierMapping> GroupTiers { get; set; } = [];

    public VerificationPolicySettings Verification { get; set; } = new();

    public List<ActionMethodRule> ActionMethods { get; set; } = [];

    public List<string> PrivilegedGroups { get; set; } = [];

    public List<string> IpAllowList { get; set; } = [];

    public AlertWebhookSettings AlertWebhook { get; set; } = new();

    public int AuditRetentionDays { get; set; } = 30;

    public CallScriptSettings CallScripts { get; set; } = new();

    /// <summary>Incremented by every change, so operators can see which revision an instance serves.</summary>
    public long Revision { get; set; }

    /// <summary>Per section, a hash of the configured value that last seeded it (<see cref="TenantSeedReconciliation"/>).</summary>
    public Dictionary<string, string> SeedHashes { get; set; } = [];

    public static TenantPolicy From(TenantSettings settings) => new()
    {
        Tiers = [.. settings.EffectiveTiers().Select(t => new TierSettings { Name = t.Name, Permissions = [.. t.Permissions] })],
        GroupTiers = [.. settings.GroupTiers.Select(g => new GroupTierMapping { Group = g.Key, Tier = g.Value })],
        Verification = Clone(settings.Verification),
        ActionMethods = [.. settings.ActionMethods.Select(a => new ActionMethodRule { Action = a.Key, Methods = [.. a.Value] })],
        PrivilegedGroups = [.. settings.PrivilegedGroups],
        IpAllowList = [.. settings.IpAllowList],
        AlertWebhook = Clone(settings.AlertWebhook),
        AuditRetentionDays = settings.AuditRetentionDays,
        CallScripts = Clone(settings.CallScripts),
    };

    /// <summary>The configured tenant with this policy laid over it (a new object: the configured one is never changed).</summary>
    public TenantSettings ApplyTo(TenantSettings configured)
    {
        var effective = Clone(configured);
        effective.Tiers = [.. Tiers.Select(Clone)];
        effective.GroupTiers = GroupTiers.GroupBy(g => g.Group, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Tier, StringComparer.Ordinal);
        effective.Verification = Clone(Verification);
        effective.ActionMethods = ActionMethods.GroupBy(a => a.Action, StringComparer.Ordinal).ToDictionary(a => a.Key, a => a.Last().Methods.ToList(), StringComparer.Ordinal);
        effective.PrivilegedGroups = [.. PrivilegedGroups];
        effective.IpAllowList = [.. IpAllowList];
        effective.AlertWebhook = Clone(AlertWebhook);
        effective.AuditRetentionDays = AuditRetentionDays;
        effective.CallScripts = Clone(CallScripts);
        return effective;
    }

    public TenantPolicy Copy() => Clone(this);

    internal static T Clone<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(value))!;
}

public sealed class GroupTierMapping
{
    public string Group { get; set; } = "";

    public string Tier { get; set; } = "";
}

public sealed class ActionMethodRule
{
    public string Action { get; set; } = "";

    public List<string> Methods { get; set; } = [];
}

/// <summary>The rules a tenant's editable settings obey, for configuration at start-up and for every admin edit.</summary>
public static class TenantPolicyRules
{
    /// <summary>Actions whose minimum method a tenant can set (the names of <c>CallerAction</c>).</summary>
    public static IReadOnlyList<string> ActionNames { get; } = ["password_reset", "sessions_revoke", "account_unlock", "mfa_reset", "tap_issue"];

    /// <summary>The AAL2 methods a policy may accept (V1: nothing weaker can be named).</summary>
    public static IReadOnlyList<string> Methods { get; } = [VerificationMethods.OktaPush, VerificationMethods.OidcStepUp, VerificationMethods.OktaTotp, VerificationMethods.EntraPush];

    public const int MaxAllowListEntries = 200;
    public const int MaxNameLength = 64;

    /// <summary>True when some tier grants <c>admin.tiers</c> and some IdP group maps to it: the tenant can still be administered.</summary>
    public static bool IsAdminTier(TierDefinition tier) => tier.Permissions.Contains(Permissions.AdminTiers);

    /// <summary>
    /// The guard on every admin change (F6): the acting admin keeps <c>admin.tiers</c> through a tier of their own
    /// session that an IdP group still maps to, so they have it now and again at their next sign-in.
    /// </summary>
    public static bool KeepsAdminAccess(IReadOnlyList<TierDefinition> tiers, IReadOnlyDictionary<string, string> groupTiers, IEnumerable<string> actingAdminTiers) =>
        tiers.Any(t => IsAdminTier(t) && actingAdminTiers.Contains(t.Name, StringComparer.Ordinal) && groupTiers.Values.Contains(t.Name, StringComparer.Ordinal));

    public static bool HasReachableAdminTier(IReadOnlyList<TierDefinition> tiers, IReadOnlyDictionary<string, string> groupTiers)
    {
        var adminTiers = tiers.Where(t => t.Permissions.Contains(Permissions.AdminTiers)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return adminTiers.Count > 0 && groupTiers.Values.Any(adminTiers.Contains);
    }

    public static void Check(TenantSettings t, string at, List<string> failures, bool development)
    {
        var v = t.Verification;
        if (v.SessionMinutes is < 2 or > 30)
        {
            failures.Add($"{at}:Verification:SessionMinutes must be between 2 and 30.");
        }

        if (v.MaxFailuresBeforeCooldown is < 1 or > 10)
        {
            failures.Add($"{at}:Verification:MaxFailuresBeforeCooldown must be between 1 and 10.");
        }

        if (v.CooldownMinutes is < 1 or > 1440 || v.AlarmCooldownMinutes is < 1 or > 10080)
        {
            failures.Add($"{at}:Verification:CooldownMinutes must be 1-1440 and AlarmCooldownMinutes 1-10080.");
        }

        if (v.MaxPushesPerWindow is < 1 or > 10 || v.PushWindowMinutes is < 1 or > 60)
        {
            failures.Add($"{at}:Verification:MaxPushesPerWindow must be 1-10 and PushWindowMinutes 1-60.");
        }

        if (t.AuditRetentionDays is < 1 or > 400)
        {
            failures.Add($"{at}:AuditRetentionDays must be between 1 and 400.");
        }

        foreach (var (name, text) in new[] { ("NoFactor", t.CallScripts.NoFactor), ("Escalation", t.CallScripts.Escalation) })
        {
            if (CallScriptSettings.ProblemOf(name, text) is not null)
            {
                failures.Add($"{at}:CallScripts:{name} must be plain text of 1 to {CallScriptSettings.MaxLength} characters.");
            }
        }

        var tiers = t.EffectiveTiers();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tier in tiers)
        {
            if (!IsValidName(tier.Name))
            {
                failures.Add($"{at}:Tiers: a tier name must be 1-{MaxNameLength} printable characters.");
            }
            else if (!names.Add(tier.Name))
            {
                failures.Add($"{at}:Tiers '{tier.Name}' is defined twice.");
            }

            foreach (var p in tier.Permissions.Where(p => !Permissions.All.Contains(p)))
            {
                failures.Add($"{at}:Tiers '{tier.Name}' names an unknown permission '{p}'.");
            }

            // F5, separation of duties (docs/tenancy.md): an admin tier cannot also look up, verify or act on callers.
            if (tier.Permissions.Any(Permissions.IsAdmin) && tier.Permissions.Any(Permissions.IsCallerOrAction))
            {
                failures.Add($"{at}:Tiers '{tier.Name}' combines admin permissions with caller or action permissions; separation of duties keeps them in different tiers.");
            }
        }

        foreach (var (group, tier) in t.GroupTiers)
        {
            if (!IsValidName(group, 256))
            {
                failures.Add($"{at}:GroupTiers: a group name must be 1-256 printable characters.");
            }

            if (!tiers.Any(x => x.Name == tier))
            {
                failures.Add($"{at}:GroupTiers maps '{group}' to an unknown tier '{tier}'.");
            }
        }

        foreach (var (action, methods) in t.ActionMethods)
        {
            if (!ActionNames.Contains(action))
            {
                failures.Add($"{at}:ActionMethods names an unknown action '{action}'.");
            }

            if (methods.Count == 0 || methods.Any(m => !Methods.Contains(m)))
            {
                failures.Add($"{at}:ActionMethods:{action} must list one or more of {string.Join(", ", Methods)}.");
            }

            // V7: the actions that hand the account over need a number-matched push or a fresh sign-in;
            // no tenant policy may open them to a code read over the phone or a push without number matching.
            if (action is "tap_issue" or "mfa_reset" && methods.Any(m => m is not (VerificationMethods.OktaPush or VerificationMethods.OidcStepUp)))
            {
                failures.Add($"{at}:ActionMethods:{action} may list only {VerificationMethods.OktaPush} and {VerificationMethods.OidcStepUp} (number matching or a fresh sign-in).");
            }
        }

        if (t.PrivilegedGroups.Any(g => !IsValidName(g, 256)))
        {
            failures.Add($"{at}:PrivilegedGroups: a group name must be 1-256 printable characters.");
        }

        if (t.IpAllowList.Count > MaxAllowListEntries)
        {
            failures.Add($"{at}:IpAllowList may hold at most {MaxAllowListEntries} networks.");
        }

        foreach (var entry in t.IpAllowList.Where(e => !IpAllowListRules.TryParseNetwork(e, out _)))
        {
            failures.Add($"{at}:IpAllowList: '{Printable(entry)}' is not a network in CIDR notation (e.g. 203.0.113.0/24 or 2001:db8::/48).");
        }

        var hook = t.AlertWebhook;
        if (!string.IsNullOrEmpty(hook.Url))
        {
            if (!Uri.TryCreate(hook.Url, UriKind.Absolute, out var uri) || !(uri.Scheme == Uri.UriSchemeHttps || (development && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                // The alarm names a tenant's caller pseudonym and a time: it travels over TLS only (plain http for a loopback receiver in Development).
                failures.Add($"{at}:AlertWebhook:Url must be an absolute https URL without credentials.");
            }
            else if (!development && (WebhookDestinations.IsRefusedName(uri.IdnHost) || (System.Net.IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && WebhookDestinations.IsRefused(literal))))
            {
                // F2: never the local host, a private network or a metadata address (names are resolved and checked again at every connection).
                failures.Add($"{at}:AlertWebhook:Url must point at a public internet address, not at the local host, a private network or a metadata address.");
            }

            if (string.IsNullOrEmpty(hook.SigningSecretSecret) && string.IsNullOrEmpty(hook.SigningSecretProtected))
            {
                failures.Add($"{at}:AlertWebhook needs a signing key (SigningSecretSecret in configuration, or one generated in the admin console).");
            }
        }

        if (!string.IsNullOrEmpty(hook.SigningSecretSecret) && !SecretResolver.IsWellFormed(hook.SigningSecretSecret))
        {
            failures.Add($"{at}:AlertWebhook:SigningSecretSecret must be a secret reference 'env:NAME' or 'file:/path'.");
        }
    }

    public static bool IsValidName(string? name, int max = MaxNameLength) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= max && name == name.Trim() && !name.Any(char.IsControl);

    private static string Printable(string value) => new([.. value.Take(60).Select(c => char.IsControl(c) ? '?' : c)]);
}
