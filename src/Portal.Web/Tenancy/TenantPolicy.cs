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

    /// <summary>Heightened-threat mode: switched in the console only, so no configured setting seeds or reconciles it.</summary>
    public HeightenedModeSettings HeightenedMode { get; set; } = new();

    /// <summary>
    /// The recovery switches (<c>Recovery</c> without its notices' relay, which stays in configuration: it holds a secret
    /// reference). Null in a document written before the section was editable: the configured switches serve, and the next
    /// start-up seeds them (<see cref="TenantSeedReconciliation"/>).
    /// </summary>
    public RecoverySwitches? Recovery { get; set; }

    /// <summary>The executive targets' groups; null in a document written before the section was editable, as <see cref="Recovery"/>.</summary>
    public ExecutiveTargetSettings? ExecutiveTargets { get; set; }

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
        Recovery = RecoverySwitches.From(settings.Recovery),
        ExecutiveTargets = Clone(settings.ExecutiveTargets),
    };

    /// <summary>
    /// Fills the sections a stored document does not hold yet (written before they were editable) with the configured
    /// values, which is what the tenant was served with: an edit then starts from them, and the change history compares with them.
    /// </summary>
    public TenantPolicy WithMissingSectionsFrom(TenantSettings configured)
    {
        Recovery ??= RecoverySwitches.From(configured.Recovery);
        ExecutiveTargets ??= Clone(configured.ExecutiveTargets);
        return this;
    }

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
        effective.HeightenedMode = Clone(HeightenedMode);

        // The relay of the notices is never stored: the configured one stays, with the stored switches laid over.
        Recovery?.ApplyTo(effective.Recovery);
        if (ExecutiveTargets is not null)
        {
            effective.ExecutiveTargets = Clone(ExecutiveTargets);
        }

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

    /// <summary>
    /// The methods a policy may accept: the AAL2 methods (V1), and the recovery methods, each only where its own rule
    /// allows (the recovery floor; a call-back for the actions that hand nothing over).
    /// </summary>
    public static IReadOnlyList<string> Methods { get; } = [VerificationMethods.OktaPush, VerificationMethods.OidcStepUp, VerificationMethods.OktaTotp, VerificationMethods.EntraPush, VerificationMethods.RecoveryManager, VerificationMethods.RecoveryCallBack, VerificationMethods.RecoveryIdVerification];

    public const int MaxAllowListEntries = 200;
    public const int MaxNameLength = 64;

    /// <summary>The most executive-target groups a tenant may name: a bounded list, as the IP allow-list.</summary>
    public const int MaxExecutiveGroups = 50;

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

    /// <summary>
    /// Adds to <paramref name="failures"/> every rule the tenant's settings break, each prefixed with <paramref name="at"/>
    /// (the setting's path in configuration, empty for an admin edit): start-up lists them all, and an admin edit is
    /// refused with them joined in one message (docs/tenancy.md, "validated with the same rules as configuration").
    /// The rules run in this order, one section of the settings each, so the failures always come in the same order.
    /// </summary>
    public static void Check(TenantSettings t, string at, List<string> failures, bool development)
    {
        var tiers = t.EffectiveTiers();
        failures.AddRange(VerificationPolicyFailures(t.Verification, at));
        failures.AddRange(AuditRetentionFailures(t.AuditRetentionDays, at));
        failures.AddRange(CallScriptFailures(t.CallScripts, at));
        failures.AddRange(TierFailures(tiers, at));
        failures.AddRange(GroupTierFailures(t.GroupTiers, tiers, at));
        failures.AddRange(ActionMethodFailures(t.ActionMethods, at));
        failures.AddRange(PrivilegedGroupFailures(t.PrivilegedGroups, at));
        failures.AddRange(ExecutiveTargetFailures(t, at));
        failures.AddRange(IpAllowListFailures(t.IpAllowList, at));
        failures.AddRange(AlertWebhookFailures(t.AlertWebhook, at, development));
        failures.AddRange(RecoveryFailures(t, at));
    }

    /// <summary>
    /// Recovery (docs/recovery.md): manager approval asks the manager by an Okta Verify push with number matching, or in
    /// an Entra tenant by a step-up sign-in link, which needs step-up configured; every recovery method needs the relay
    /// of the notice the caller gets afterwards (which also carries an Entra manager's link).
    /// </summary>
    private static IEnumerable<string> RecoveryFailures(TenantSettings t, string at)
    {
        // An Entra tenant asks the manager by a step-up sign-in link (Graph cannot push with number matching): without
        // step-up configured there is no way to ask them.
        if (t.Recovery.ManagerApproval && t.Idp.Kind == IdpKind.Entra && !t.StepUp.IsConfigured)
        {
            yield return $"{at}:Recovery:ManagerApproval in an Entra tenant needs {at}:StepUp:Authority (docs/recovery.md): the manager approves by a step-up sign-in, as Microsoft Graph cannot send a push with number matching.";
        }

        // No notice, no recovery (NIST SP 800-63B-4 §4.2): a recovery method turned on without a relay would never be offered.
        if (t.Recovery.ManagerApproval && !t.Recovery.Notices.Smtp.IsConfigured)
        {
            yield return $"{at}:Recovery:ManagerApproval needs {at}:Recovery:Notices:Smtp:Host (docs/recovery.md): the caller must be told after every recovery.";
        }

        if (t.Recovery.CallBack && !t.Recovery.Notices.Smtp.IsConfigured)
        {
            yield return $"{at}:Recovery:CallBack needs {at}:Recovery:Notices:Smtp:Host (docs/recovery.md): the caller must be told after every recovery.";
        }

        if (t.Recovery.IdVerification && t.Idp.Kind != IdpKind.Okta)
        {
            yield return $"{at}:Recovery:IdVerification is available for Okta organisations only (docs/recovery.md): Microsoft Entra ID reports no identity verification result to other apps.";
        }

        if (t.Recovery.IdVerification && !t.Recovery.Notices.Smtp.IsConfigured)
        {
            yield return $"{at}:Recovery:IdVerification needs {at}:Recovery:Notices:Smtp:Host (docs/recovery.md): the caller must be told after every recovery.";
        }
    }

    /// <summary>The verification policy: how long a verification lasts, and the per-caller limits (failures before a cooldown, the cooldowns, pushes per window).</summary>
    private static IEnumerable<string> VerificationPolicyFailures(VerificationPolicySettings v, string at)
    {
        if (v.SessionMinutes is < 2 or > 30)
        {
            yield return $"{at}:Verification:SessionMinutes must be between 2 and 30.";
        }

        if (v.MaxFailuresBeforeCooldown is < 1 or > 10)
        {
            yield return $"{at}:Verification:MaxFailuresBeforeCooldown must be between 1 and 10.";
        }

        if (v.CooldownMinutes is < 1 or > 1440 || v.AlarmCooldownMinutes is < 1 or > 10080)
        {
            yield return $"{at}:Verification:CooldownMinutes must be 1-1440 and AlarmCooldownMinutes 1-10080.";
        }

        if (v.MaxPushesPerWindow is < 1 or > 10 || v.PushWindowMinutes is < 1 or > 60)
        {
            yield return $"{at}:Verification:MaxPushesPerWindow must be 1-10 and PushWindowMinutes 1-60.";
        }
    }

    private static IEnumerable<string> AuditRetentionFailures(int days, string at)
    {
        if (days is < 1 or > 400)
        {
            yield return $"{at}:AuditRetentionDays must be between 1 and 400.";
        }
    }

    /// <summary>The texts an agent reads to a caller who has no factor, or when escalating: plain text of bounded length.</summary>
    private static IEnumerable<string> CallScriptFailures(CallScriptSettings scripts, string at)
    {
        foreach (var (name, text) in new[] { ("NoFactor", scripts.NoFactor), ("Escalation", scripts.Escalation) })
        {
            if (CallScriptSettings.ProblemOf(name, text) is not null)
            {
                yield return $"{at}:CallScripts:{name} must be plain text of 1 to {CallScriptSettings.MaxLength} characters.";
            }
        }
    }

    /// <summary>Each tier, in turn: a valid name defined once, known permissions, and admin kept apart from caller work (F5).</summary>
    private static IEnumerable<string> TierFailures(IReadOnlyList<TierDefinition> tiers, string at)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tier in tiers)
        {
            if (!IsValidName(tier.Name))
            {
                yield return $"{at}:Tiers: a tier name must be 1-{MaxNameLength} printable characters.";
            }
            else if (!names.Add(tier.Name))
            {
                yield return $"{at}:Tiers '{tier.Name}' is defined twice.";
            }

            foreach (var p in tier.Permissions.Where(p => !Permissions.All.Contains(p)))
            {
                yield return $"{at}:Tiers '{tier.Name}' names an unknown permission '{p}'.";
            }

            // F5, separation of duties (docs/tenancy.md): an admin tier cannot also look up, verify or act on callers.
            if (tier.Permissions.Any(Permissions.IsAdmin) && tier.Permissions.Any(Permissions.IsCallerOrAction))
            {
                yield return $"{at}:Tiers '{tier.Name}' combines admin permissions with caller or action permissions; separation of duties keeps them in different tiers.";
            }
        }
    }

    /// <summary>Each IdP group an agent's tier is read from: a valid group name, mapped to a tier that exists.</summary>
    private static IEnumerable<string> GroupTierFailures(IReadOnlyDictionary<string, string> groupTiers, IReadOnlyList<TierDefinition> tiers, string at)
    {
        foreach (var (group, tier) in groupTiers)
        {
            if (!IsValidName(group, 256))
            {
                yield return $"{at}:GroupTiers: a group name must be 1-256 printable characters.";
            }

            if (!tiers.Any(x => x.Name == tier))
            {
                yield return $"{at}:GroupTiers maps '{group}' to an unknown tier '{tier}'.";
            }
        }
    }

    /// <summary>The verification methods a tenant accepts per action: known actions, AAL2 methods only, and V7 for the actions that hand the account over.</summary>
    private static IEnumerable<string> ActionMethodFailures(IReadOnlyDictionary<string, List<string>> actionMethods, string at)
    {
        foreach (var (action, methods) in actionMethods)
        {
            if (!ActionNames.Contains(action))
            {
                yield return $"{at}:ActionMethods names an unknown action '{action}'.";
            }

            if (methods.Count == 0 || methods.Any(m => !Methods.Contains(m)))
            {
                yield return $"{at}:ActionMethods:{action} must list one or more of {string.Join(", ", Methods)}.";
            }

            // V7: the actions that hand the account over need a number-matched push or a fresh sign-in;
            // no tenant policy may open them to a code read over the phone or a push without number matching.
            if (action is "tap_issue" or "mfa_reset" && methods.Any(m => m is not (VerificationMethods.OktaPush or VerificationMethods.OidcStepUp or VerificationMethods.RecoveryManager or VerificationMethods.RecoveryIdVerification)))
            {
                yield return $"{at}:ActionMethods:{action} may list only {VerificationMethods.OktaPush}, {VerificationMethods.OidcStepUp}, {VerificationMethods.RecoveryManager} and {VerificationMethods.RecoveryIdVerification} (number matching, a fresh sign-in, or a recovery that proves as much).";
            }

            // A call-back proves less than a code read over the phone (docs/recovery.md): it may open only the actions
            // that hand nothing over, never a password, a temporary access code or new factors.
            if (action is not ("sessions_revoke" or "account_unlock") && methods.Contains(VerificationMethods.RecoveryCallBack))
            {
                yield return $"{at}:ActionMethods:{action} may not list {VerificationMethods.RecoveryCallBack}: a call-back opens only sessions_revoke and account_unlock.";
            }

            // The recovery floor (docs/recovery.md): a password set on the phone hands the account over in one step, so
            // a recovery method never opens a password reset; the caller is given a temporary access code to enrol instead.
            if (action == "password_reset" && methods.Any(VerificationMethods.IsRecovery))
            {
                yield return $"{at}:ActionMethods:password_reset may not list a recovery method ({VerificationMethods.RecoveryManager}, {VerificationMethods.RecoveryCallBack}, {VerificationMethods.RecoveryIdVerification}): issue a temporary access code after a recovery instead.";
            }
        }
    }

    /// <summary>The IdP groups whose members count as privileged targets (an action on them needs a second agent's approval).</summary>
    private static IEnumerable<string> PrivilegedGroupFailures(IReadOnlyList<string> privilegedGroups, string at)
    {
        if (privilegedGroups.Any(g => !IsValidName(g, 256)))
        {
            yield return $"{at}:PrivilegedGroups: a group name must be 1-256 printable characters.";
        }
    }

    /// <summary>
    /// The IdP groups whose members are executive targets (two different methods before any action): names of 1-256
    /// printable characters; for Entra, entries as Graph lists them (<see cref="ExecutiveTargetSettings.Groups"/>), since
    /// any other name would never match and leave the executives unprotected.
    /// </summary>
    private static IEnumerable<string> ExecutiveTargetFailures(TenantSettings t, string at)
    {
        var groups = t.ExecutiveTargets.Groups;
        if (groups.Count > MaxExecutiveGroups)
        {
            yield return $"{at}:ExecutiveTargets:Groups may hold at most {MaxExecutiveGroups} groups.";
        }

        // Compared without regard to case (ExecutiveTargetSettings.Groups), so "CFO" and "cfo" name one group.
        var twice = groups.GroupBy(g => g, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null && IsValidName(twice.Key, 256))
        {
            yield return $"{at}:ExecutiveTargets:Groups names '{twice.Key}' more than once (names are compared without regard to case).";
        }

        if (groups.Any(g => !IsValidName(g, 256)))
        {
            yield return $"{at}:ExecutiveTargets:Groups: a group name must be 1-256 printable characters.";
        }
        else if (t.Idp.Kind == IdpKind.Entra && groups.Any(g => !ExecutiveTargetSettings.EntraPrefixes.Any(p => g.StartsWith(p, StringComparison.OrdinalIgnoreCase) && g.Length > p.Length)))
        {
            yield return $"{at}:ExecutiveTargets:Groups: for Microsoft Entra an entry must start with {string.Join(", ", ExecutiveTargetSettings.EntraPrefixes.Select(p => $"'{p}'"))} (Graph lists only directory roles and role-assignable groups, docs/tenancy.md).";
        }
    }

    /// <summary>The networks agents may use the portal from: a bounded list of strict CIDR networks.</summary>
    private static IEnumerable<string> IpAllowListFailures(List<string> ipAllowList, string at)
    {
        if (ipAllowList.Count > MaxAllowListEntries)
        {
            yield return $"{at}:IpAllowList may hold at most {MaxAllowListEntries} networks.";
        }

        foreach (var entry in ipAllowList.Where(e => !IpAllowListRules.TryParseNetwork(e, out _)))
        {
            yield return $"{at}:IpAllowList: '{Printable(entry)}' is not a network in CIDR notation (e.g. 203.0.113.0/24 or 2001:db8::/48).";
        }
    }

    /// <summary>Where a caller alarm is sent: when a URL is set, a public https address and a signing key; a configured key is always a secret reference.</summary>
    private static IEnumerable<string> AlertWebhookFailures(AlertWebhookSettings hook, string at, bool development)
    {
        if (!string.IsNullOrEmpty(hook.Url))
        {
            if (AlertWebhookUrlFailure(hook.Url, at, development) is { } urlFailure)
            {
                yield return urlFailure;
            }

            if (string.IsNullOrEmpty(hook.SigningSecretSecret) && string.IsNullOrEmpty(hook.SigningSecretProtected))
            {
                yield return $"{at}:AlertWebhook needs a signing key (SigningSecretSecret in configuration, or one generated in the admin console).";
            }
        }

        if (!string.IsNullOrEmpty(hook.SigningSecretSecret) && !SecretResolver.IsWellFormed(hook.SigningSecretSecret))
        {
            yield return $"{at}:AlertWebhook:SigningSecretSecret must be a secret reference 'env:NAME' or 'file:/path'.";
        }
    }

    private static string? AlertWebhookUrlFailure(string url, string at, bool development)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !(uri.Scheme == Uri.UriSchemeHttps || (development && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            // The alarm names a tenant's caller pseudonym and a time: it travels over TLS only (plain http for a loopback receiver in Development).
            return $"{at}:AlertWebhook:Url must be an absolute https URL without credentials.";
        }

        if (!development && (WebhookDestinations.IsRefusedName(uri.IdnHost) || (System.Net.IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && WebhookDestinations.IsRefused(literal))))
        {
            // F2: never the local host, a private network or a metadata address (names are resolved and checked again at every connection).
            return $"{at}:AlertWebhook:Url must point at a public internet address, not at the local host, a private network or a metadata address.";
        }

        return null;
    }

    public static bool IsValidName(string? name, int max = MaxNameLength) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= max && name == name.Trim() && !name.Any(char.IsControl);

    private static string Printable(string value) => new([.. value.Take(60).Select(c => char.IsControl(c) ? '?' : c)]);
}
