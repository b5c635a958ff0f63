namespace Portal.Web.Tenancy;

/// <summary>One customer organisation (section <c>Portal:Tenants:N</c>).</summary>
public sealed class TenantSettings
{
    public string Id { get; set; } = "";

    public string DisplayName { get; set; } = "";

    /// <summary>Agents' e-mail domains, used by the sign-in page to find the organisation.</summary>
    public List<string> EmailDomains { get; set; } = [];

    public TenantIdpSettings Idp { get; set; } = new();

    public AgentSignInSettings AgentSignIn { get; set; } = new();

    /// <summary>The step-up sign-in callers use to prove themselves (<c>oidc.stepup</c>); not offered when unset.</summary>
    public StepUpSettings StepUp { get; set; } = new();

    /// <summary>IdP group name (or id) → tier name.</summary>
    public Dictionary<string, string> GroupTiers { get; set; } = [];

    /// <summary>The tenant's tiers; the defaults of docs/tenancy.md when empty.</summary>
    public List<TierSettings> Tiers { get; set; } = [];

    public VerificationPolicySettings Verification { get; set; } = new();

    public int AuditRetentionDays { get; set; } = 30;

    /// <summary>Customer egress networks (IPv4/IPv6 CIDR) the tenant's agents must come from; empty = any address (A4).</summary>
    public List<string> IpAllowList { get; set; } = [];

    /// <summary>Action name (e.g. <c>mfa_reset</c>) → the verification methods it accepts; an action not named keeps its default (V7).</summary>
    public Dictionary<string, List<string>> ActionMethods { get; set; } = [];

    /// <summary>IdP groups whose members are privileged targets: any action on them needs a second agent's approval (V7).</summary>
    public List<string> PrivilegedGroups { get; set; } = [];

    /// <summary>IdP groups whose members are executive targets: any action on them needs two different methods (docs/tenancy.md).</summary>
    public ExecutiveTargetSettings ExecutiveTargets { get; set; } = new();

    /// <summary>The tenant's words for a caller with no usable factor and for escalation.</summary>
    public CallScriptSettings CallScripts { get; set; } = new();

    /// <summary>Where the tenant's security alarms are sent (V6).</summary>
    public AlertWebhookSettings AlertWebhook { get; set; } = new();

    /// <summary>Reading the IdP's own log for helpdesk actions done outside the portal (off by default).</summary>
    public ReconciliationSettings Reconciliation { get; set; } = new();

    /// <summary>Recovery of a caller who cannot use their own factors (docs/recovery.md); nothing is offered by default.</summary>
    public RecoverySettings Recovery { get; set; } = new();

    /// <summary>
    /// Heightened-threat mode, laid over from the stored policy only: its setter is not public, so a configured
    /// <c>Portal:Tenants:N:HeightenedMode</c> binds nothing (the mode is switched in the console, docs/tenancy.md).
    /// </summary>
    [System.Text.Json.Serialization.JsonInclude]
    public HeightenedModeSettings HeightenedMode { get; internal set; } = new();

    public IReadOnlyList<TierDefinition> EffectiveTiers() =>
        Tiers.Count == 0 ? DefaultTiers.All : [.. Tiers.Select(t => new TierDefinition(t.Name, t.Permissions))];
}

public sealed class TierSettings
{
    public string Name { get; set; } = "";

    public List<string> Permissions { get; set; } = [];
}

/// <summary>
/// The tenant's own words for the hardest moments of a call (docs/tenancy.md "Call scripts"): what the agent does when
/// the caller has no factor the portal can challenge (a lost phone), and whom they hand a call to that they must not
/// resolve. Shown on the console and the push page; each at most <see cref="MaxLength"/> characters.
/// </summary>
public sealed class CallScriptSettings
{
    public const int MaxLength = 1000;

    public const string DefaultNoFactor = "Do not act on the account. Follow your organisation's in-person or manager-approval procedure for a caller who cannot use a second factor.";

    public const string DefaultEscalation = "If the caller insists, is upset or you are unsure, hand the call to your team lead. Never make an exception on the phone.";

    public string NoFactor { get; set; } = DefaultNoFactor;

    public string Escalation { get; set; } = DefaultEscalation;

    /// <summary>Why the two texts are refused, in words naming the field; null when both are fine.</summary>
    public static string? Problem(string noFactor, string escalation) =>
        ProblemOf("What to do when the caller has no usable factor", noFactor) ?? ProblemOf("Escalation", escalation);

    /// <summary>Why one text is refused ("{label} must not be empty."); null when it is fine.</summary>
    public static string? ProblemOf(string label, string? text) =>
        string.IsNullOrWhiteSpace(text) ? $"{label} must not be empty."
        : text.Length > MaxLength ? $"{label} must be at most {MaxLength} characters."
        : text.Any(c => char.IsControl(c) && c is not '\n' and not '\r') ? $"{label} must be plain text." : null;
}

public sealed class VerificationPolicySettings
{
    /// <summary>How long a verification lasts (2–30 minutes; default 10).</summary>
    public int SessionMinutes { get; set; } = 10;

    /// <summary>Failed attempts in a row before a cool-down (≤ 10, docs/security-requirements.md V4).</summary>
    public int MaxFailuresBeforeCooldown { get; set; } = 5;

    public int CooldownMinutes { get; set; } = 15;

    /// <summary>Pushes per caller within <see cref="PushWindowMinutes"/> (push-bombing limit).</summary>
    public int MaxPushesPerWindow { get; set; } = 3;

    public int PushWindowMinutes { get; set; } = 10;

    /// <summary>After a rejected push or a "not me", sensitive actions on that caller are blocked this long (V6).</summary>
    public int AlarmCooldownMinutes { get; set; } = 60;
}

/// <summary>The tenant's alert webhook: an HTTPS URL that receives HMAC-SHA256-signed JSON alarms.</summary>
public sealed class AlertWebhookSettings
{
    /// <summary>Empty: no webhook (alarms are still audited and logged).</summary>
    public string Url { get; set; } = "";

    /// <summary>Reference to the signing key (<c>env:NAME</c> or <c>file:/path</c>), when set in configuration.</summary>
    public string SigningSecretSecret { get; set; } = "";

    /// <summary>A signing key generated in the admin console, stored encrypted with Data Protection (never in clear).</summary>
    public string SigningSecretProtected { get; set; } = "";
}
