using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Actions;
using Portal.Web.Verification.Reconciliation;

namespace Portal.Web.Features.Admin;

/// <summary>The tiers page; <see cref="NewTier"/> keeps what the admin typed when creating a tier was refused.</summary>
public sealed record TiersPage(IReadOnlyList<TierSettings> Tiers, IReadOnlyList<GroupTierMapping> GroupTiers, AdminChangeResult? Result, NewTierInput? NewTier = null);

public sealed record NewTierInput(string Name, IReadOnlyList<string> Permissions);

public sealed record PolicyPage(TenantPolicy Policy, IReadOnlyList<CallerAction> Actions, AdminChangeResult? Result, string? NewSigningKey);

public sealed record IpAllowListPage(IReadOnlyList<string> Networks, string? CurrentAddress, bool CurrentAddressAllowed, int TrustedProxyHops, AdminChangeResult? Result);

public sealed record ChangesPage(IReadOnlyList<SettingsChangeRecord> Changes);

/// <summary>
/// The recovery page: the switches and the executive groups as stored, or as the admin typed them when a change was
/// refused (nothing they typed is lost); whether the notices' relay is configured, the IdP's kind and heightened-threat mode,
/// which the rules depend on.
/// </summary>
public sealed record RecoveryPage(
    RecoverySwitches Switches,
    string ExecutiveGroups,
    bool RelayConfigured,
    Portal.Idp.IdpKind Kind,
    bool HeightenedModeOn,
    int TenantIndex,
    AdminChangeResult? Result);


/// <summary>The tenant's IdP connection: its last onboarding check on this instance (null before the first) and whether it was just run.</summary>
public sealed record ConnectionPage(Portal.Idp.IdpKind Kind, Portal.Idp.IdpCapabilityReport? Report, bool JustTested)
{
    /// <summary>
    /// The summary of a test that ran on another instance of the portal (the full report stays in that instance's
    /// memory): shown when this instance's last report is not the one the admin just ran. Null otherwise.
    /// </summary>
    public string? TestedElsewhere { get; init; }

    /// <summary>Whether the tenant's reconciliation is on, and where its reading of the IdP log stands (null before the first read).</summary>
    public bool ReconciliationEnabled { get; init; }

    public ReconciliationState? Reconciliation { get; init; }

    public int ReconciliationPollSeconds { get; init; }

    /// <summary>Now, to say how long ago the log was last read.</summary>
    public DateTimeOffset Now { get; init; }
}

/// <summary>
/// The tenant admin console. The tenant is always the signed-in agent's own (from the session, never from
/// the URL or the form), so no id an admin types can reach another tenant. Each route needs its own admin
/// permission; every change goes through <see cref="TenantAdministration"/> (atomic, validated, audited).
/// </summary>
[Route("admin")]
public sealed class AdminController(
    TenantAdministration admin,
    ClientAddressResolver addresses,
    AlertSigningKeys signingKeys,
    IHostEnvironment environment,
    Microsoft.Extensions.Options.IOptions<AlertOptions> alerts,
    ConnectionCheckRunner connectionChecks,
    TenantConnectionReports connectionReports,
    Portal.Audit.IAuditTrail audit,
    BrowserHandover handover,
    IAlertNotifier notifier,
    ReconciliationStore reconciliation,
    TimeProvider clock) : AgentController
{
    private const string TiersPath = "/admin/tiers";
    private const string PolicyPath = "/admin/policy";
    private const string IpAllowListPath = "/admin/ip-allowlist";
    private const string RecoveryPath = "/admin/recovery";

    /// <summary>The refusal of a change that would loosen what heightened-threat mode enforces, while it is on.</summary>
    public const string HeightenedRefusal = "heightened_mode_on";

    /// <summary>The alarm of an admin change that loosens recovery or the executives' protection.</summary>
    public const string PolicyWeakenedAlarm = "tenant.policy_weakened";
    private const string SavedPurpose = "admin-saved";

    // What a saved change shows on the page it redirects to; the diff is cut short to keep the cookie small.
    private const int MaxShownDiffCharacters = 1500;
    private static readonly TimeSpan SavedLifetime = TimeSpan.FromMinutes(2);

    private AgentContext Agent => Current.Agent;

    [HttpGet("tiers")]
    [Authorize(Policy = Permissions.AdminTiers)]
    public IActionResult Tiers() => TiersView(TakeSaved(TiersPath)?.Result);

    [HttpPost("tiers/create")]
    [Authorize(Policy = Permissions.AdminTiers)]
    public async Task<IActionResult> CreateTier([FromForm] string? name, [FromForm] string[]? permissions)
    {
        var tierName = name?.Trim() ?? "";
        var result = await admin.ChangeAsync(Current, "admin.tiers.create", p =>
        {
            if (p.Tiers.Any(t => t.Name == tierName))
            {
                return new Refusal("tier_exists", "A tier with that name exists already.");
            }

            p.Tiers.Add(new TierSettings { Name = tierName, Permissions = KnownPermissions(permissions) });
            return null;
        }, HttpContext.RequestAborted);

        // Refused: the form comes back with what the admin typed and ticked.
        return Answer(result, TiersPath, r => TiersView(r, new NewTierInput(tierName, KnownPermissions(permissions))));
    }

    [HttpPost("tiers/rename")]
    [Authorize(Policy = Permissions.AdminTiers)]
    public Task<IActionResult> RenameTier([FromForm] string? name, [FromForm] string? newName) =>
        ChangeTiersAsync("admin.tiers.rename", p =>
        {
            var tier = p.Tiers.Find(t => t.Name == name);
            var target = newName?.Trim() ?? "";
            if (tier is null)
            {
                return new Refusal("tier_unknown", "There is no such tier.");
            }

            if (p.Tiers.Any(t => t.Name == target))
            {
                return new Refusal("tier_exists", "A tier with that name exists already.");
            }

            tier.Name = target;
            foreach (var map in p.GroupTiers.Where(m => m.Tier == name))
            {
                map.Tier = target;
            }

            return null;
        });

    [HttpPost("tiers/delete")]
    [Authorize(Policy = Permissions.AdminTiers)]
    public Task<IActionResult> DeleteTier([FromForm] string? name) =>
        ChangeTiersAsync("admin.tiers.delete", p =>
        {
            if (p.Tiers.RemoveAll(t => t.Name == name) == 0)
            {
                return new Refusal("tier_unknown", "There is no such tier.");
            }

            // A group mapped to a tier that no longer exists would grant nothing; the mapping goes with it (and shows in the diff).
            p.GroupTiers.RemoveAll(m => m.Tier == name);
            return null;
        });

    [HttpPost("tiers/permissions")]
    [Authorize(Policy = Permissions.AdminTiers)]
    public Task<IActionResult> SetPermissions([FromForm] string? name, [FromForm] string[]? permissions) =>
        ChangeTiersAsync("admin.tiers.permissions", p =>
        {
            var tier = p.Tiers.Find(t => t.Name == name);
            if (tier is null)
            {
                return new Refusal("tier_unknown", "There is no such tier.");
            }

            tier.Permissions = KnownPermissions(permissions);
            return null;
        });

    [HttpPost("groups/map")]
    [Authorize(Policy = Permissions.AdminTiers)]
    public Task<IActionResult> MapGroup([FromForm] string? group, [FromForm] string? tier) =>
        ChangeTiersAsync("admin.groups.map", p =>
        {
            var name = group?.Trim() ?? "";
            if (!TenantPolicyRules.IsValidName(name, 256))
            {
                return new Refusal("invalid", "Enter the IdP group's name (1-256 characters).");
            }

            p.GroupTiers.RemoveAll(m => m.Group == name);
            p.GroupTiers.Add(new GroupTierMapping { Group = name, Tier = tier ?? "" });
            return null;
        });

    [HttpPost("groups/unmap")]
    [Authorize(Policy = Permissions.AdminTiers)]
    public Task<IActionResult> UnmapGroup([FromForm] string? group) =>
        ChangeTiersAsync("admin.groups.unmap", p =>
            p.GroupTiers.RemoveAll(m => m.Group == group) == 0 ? new Refusal("group_unknown", "That group is not mapped.") : null);

    [HttpGet("policy")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public IActionResult Policy()
    {
        var saved = TakeSaved(PolicyPath);
        return PolicyView(saved?.Result, saved?.NewSigningKey);
    }

    [HttpPost("policy/verification")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetVerification(
        [FromForm] int sessionMinutes, [FromForm] int maxFailuresBeforeCooldown, [FromForm] int cooldownMinutes,
        [FromForm] int maxPushesPerWindow, [FromForm] int pushWindowMinutes, [FromForm] int alarmCooldownMinutes)
    {
        var result = await admin.ChangeAsync(Current, "admin.policy.verification", p =>
        {
            p.Verification = new VerificationPolicySettings
            {
                SessionMinutes = sessionMinutes,
                MaxFailuresBeforeCooldown = maxFailuresBeforeCooldown,
                CooldownMinutes = cooldownMinutes,
                MaxPushesPerWindow = maxPushesPerWindow,
                PushWindowMinutes = pushWindowMinutes,
                AlarmCooldownMinutes = alarmCooldownMinutes,
            };
            return null;
        }, HttpContext.RequestAborted);
        return Answer(result, PolicyPath, r => PolicyView(r, null));
    }

    [HttpPost("policy/actions")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetActionMethods([FromForm] string? action, [FromForm] string[]? methods)
    {
        var result = await admin.ChangeAsync(Current, "admin.policy.actions", p =>
        {
            if (action is null || !TenantPolicyRules.ActionNames.Contains(action))
            {
                return new Refusal("invalid", "There is no such action.");
            }

            p.ActionMethods.RemoveAll(r => r.Action == action);
            p.ActionMethods.Add(new ActionMethodRule { Action = action, Methods = [.. (methods ?? []).Distinct(StringComparer.Ordinal)] });
            return null;
        }, HttpContext.RequestAborted);
        return Answer(result, PolicyPath, r => PolicyView(r, null));
    }

    [HttpPost("policy/privileged")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetPrivilegedGroups([FromForm] string? groups)
    {
        var result = await admin.ChangeAsync(Current, "admin.policy.privileged_groups", p =>
        {
            p.PrivilegedGroups = Lines(groups);
            return null;
        }, HttpContext.RequestAborted);
        return Answer(result, PolicyPath, r => PolicyView(r, null));
    }

    /// <summary>
    /// Switches the tenant's heightened-threat mode on or off with a reason (docs/tenancy.md, "Heightened-threat mode"):
    /// audited as <c>admin.heightened_mode.on</c> or <c>.off</c> with the before/after, and alarmed through the webhook.
    /// </summary>
    [HttpPost("policy/heightened")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetHeightenedMode([FromForm] string? mode, [FromForm] string? reason, [FromServices] HeightenedModeSwitch heightened)
    {
        bool? on = mode switch { "on" => true, "off" => false, _ => null };
        var switched = await heightened.SwitchAsync(AdminActor.Of(Current), on, reason, HttpContext.TraceIdentifier, HttpContext.RequestAborted);
        return Answer(switched.Change, PolicyPath, r => PolicyView(r, null));
    }

    /// <summary>The tenant's words for a caller with no usable factor and for escalation (docs/tenancy.md "Call scripts").</summary>
    [HttpPost("policy/scripts")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetCallScripts([FromForm] string? noFactor, [FromForm] string? escalation)
    {
        var noFactorText = Normalise(noFactor);
        var escalationText = Normalise(escalation);
        var problem = CallScriptSettings.Problem(noFactorText, escalationText);
        var result = await admin.ChangeAsync(Current, "admin.policy.call_scripts", p =>
        {
            if (problem is not null)
            {
                return new Refusal("invalid_call_script", problem);
            }

            p.CallScripts = new CallScriptSettings { NoFactor = noFactorText, Escalation = escalationText };
            return null;
        }, HttpContext.RequestAborted);
        return Answer(result, PolicyPath, r => PolicyView(r, null));

        static string Normalise(string? text) => (text ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
    }

    [HttpPost("policy/webhook")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetWebhook([FromForm] string? url)
    {
        var value = url?.Trim() ?? "";

        // F2: a destination inside the service's network is refused when saved, with a clear message (and again at every connection).
        var refused = value.Length == 0 ? null : await WebhookDestinations.CheckAsync(value, environment.IsDevelopment(), alerts.Value.AllowLoopbackDestinations, HttpContext.RequestAborted);
        var result = await admin.ChangeAsync(Current, "admin.policy.webhook", p =>
        {
            if (refused is not null)
            {
                return new Refusal("webhook_destination", refused);
            }

            p.AlertWebhook.Url = value;
            return null;
        }, HttpContext.RequestAborted);
        return Answer(result, PolicyPath, r => PolicyView(r, null));
    }

    /// <summary>Generates a new signing key; it is shown on this response only and stored encrypted.</summary>
    [HttpPost("policy/webhook/key")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> NewSigningKey()
    {
        var (display, protectedKey) = signingKeys.Generate(Agent.TenantId);
        var result = await admin.ChangeAsync(Current, "admin.policy.webhook_key", p =>
        {
            p.AlertWebhook.SigningSecretProtected = protectedKey;
            return null;
        }, HttpContext.RequestAborted);
        return Answer(result, PolicyPath, r => PolicyView(r, null), display);
    }

    /// <summary>
    /// Sends a signed test alarm to the webhook now and says whether the receiver took it (docs/tenancy.md "Alarms and
    /// the webhook"). Audited as every delivery; the receiver's status is never shown (F2).
    /// </summary>
    [HttpPost("policy/webhook/test")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> TestWebhook()
    {
        var agent = Agent;
        var outcome = await notifier.SendTestAsync(
            new AlertEvent
            {
                Id = PortalIds.New(),
                TenantId = agent.TenantId,
                Type = "alert.test",
                Reason = "test",
                At = clock.GetUtcNow(),
                AgentSubject = agent.Subject,
                AgentMaskedLogin = agent.MaskedLogin,
                RequestId = HttpContext.TraceIdentifier,
            },
            HttpContext.RequestAborted);
        var message = outcome switch
        {
            "delivered" => "Test alarm delivered: the receiver accepted it (a 2xx answer). Check that it also verified the signature.",
            "no_webhook" => "There is no webhook to test: save its URL first.",
            "no_signing_key" => "The test alarm was not sent: the webhook has no signing key. Generate one first.",
            "refused_destination" => "The test alarm was not sent: the webhook's address is inside the service's own network, which the portal never calls.",
            _ => "The test alarm was not accepted: the receiver did not answer with a 2xx in time. The audit records it as alert.webhook, failed.",
        };
        handover.Keep(Response, SavedPurpose, agent, PolicyPath, new SavedChange(new AdminChangeResult(outcome == "delivered", message, []), null), clock.GetUtcNow() + SavedLifetime);
        return this.SeeOther(PolicyPath);
    }

    [HttpGet("recovery")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public IActionResult Recovery() => RecoveryView(TakeSaved(RecoveryPath)?.Result);

    /// <summary>
    /// Turns the recovery methods on or off (docs/recovery.md, "Turning recovery on in the console"), with the rules of
    /// start-up. A change that loosens recovery (a method on, the second agent no longer required) raises the tenant's
    /// alarm; while heightened-threat mode is on, a change that would loosen what the mode enforces is refused.
    /// </summary>
    [HttpPost("recovery/methods")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetRecoveryMethods(
        [FromForm] bool managerApproval, [FromForm] bool callBack, [FromForm] bool idVerification, [FromForm] bool requireSecondAgent)
    {
        var wanted = new RecoverySwitches { ManagerApproval = managerApproval, CallBack = callBack, IdVerification = idVerification, RequireSecondAgent = requireSecondAgent };
        IReadOnlyList<string> weakened = [];
        var result = await admin.ChangeAsync(Current, "admin.recovery.methods", p =>
        {
            var before = p.Recovery ?? new RecoverySwitches();
            if (p.HeightenedMode.On && ((wanted.CallBack && !before.CallBack) || (!wanted.RequireSecondAgent && before.RequireSecondAgent)))
            {
                return new Refusal(HeightenedRefusal, "Heightened-threat mode is on: it refuses the call-back and asks for a second agent on every action. "
                    + "Turning the call-back on, or no longer asking for a second agent on recovery, would take effect the moment the mode is switched off. "
                    + "Switch heightened-threat mode off first, then make this change.");
            }

            weakened = wanted.WeakeningsSince(before);
            p.Recovery = wanted;
            return null;
        }, HttpContext.RequestAborted);
        if (result.Succeeded)
        {
            RaiseWeakened(weakened);
        }

        return Answer(result, RecoveryPath, r => RecoveryView(r, wanted, null));
    }

    /// <summary>The IdP groups whose members are executive targets (docs/tenancy.md, "Executive targets"), one per line.</summary>
    [HttpPost("recovery/executives")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> SetExecutiveGroups([FromForm] string? groups)
    {
        var typed = groups ?? "";
        var list = typed.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        IReadOnlyList<string> weakened = [];
        var result = await admin.ChangeAsync(Current, "admin.executive_groups", p =>
        {
            var before = p.ExecutiveTargets?.Groups ?? [];

            // A group no longer named leaves its members with one method: a loosening, alarmed as the recovery switches are.
            weakened = before.Any(g => !list.Contains(g, StringComparer.OrdinalIgnoreCase)) ? ["executiveTargets.groups:removed"] : [];
            p.ExecutiveTargets = new ExecutiveTargetSettings { Groups = list };
            return null;
        }, HttpContext.RequestAborted);
        if (result.Succeeded)
        {
            RaiseWeakened(weakened);
        }

        return Answer(result, RecoveryPath, r => RecoveryView(r, null, typed));
    }

    /// <summary>The alarm of a change that loosens recovery or the executives' protection (docs/tenancy.md, "Alarms and the webhook").</summary>
    private void RaiseWeakened(IReadOnlyList<string> weakened)
    {
        if (weakened.Count == 0)
        {
            return;
        }

        var agent = Agent;
        notifier.Raise(new AlertEvent
        {
            Id = PortalIds.New(),
            TenantId = agent.TenantId,
            Type = PolicyWeakenedAlarm,
            Reason = string.Join(' ', weakened),
            At = clock.GetUtcNow(),
            AgentSubject = agent.Subject,
            AgentMaskedLogin = agent.MaskedLogin,
            RequestId = HttpContext.TraceIdentifier,
        });
    }

    [HttpGet("ip-allowlist")]
    [Authorize(Policy = Permissions.AdminIpAllowlist)]
    public IActionResult IpAllowList() => IpAllowListView(TakeSaved(IpAllowListPath)?.Result);

    /// <summary>Saves the allow-list, one network per line, unless it would lock out the admin who saves it (A4).</summary>
    [HttpPost("ip-allowlist")]
    [Authorize(Policy = Permissions.AdminIpAllowlist)]
    public async Task<IActionResult> SaveIpAllowList([FromForm] string? networks)
    {
        var address = addresses.Resolve(HttpContext);
        var list = Lines(networks);
        var result = await admin.ChangeAsync(Current, "admin.ip_allowlist", p =>
        {
            var bad = list.FirstOrDefault(n => !IpAllowListRules.TryParseNetwork(n, out _));
            if (bad is not null)
            {
                return new Refusal("invalid", "Each line must be a network in CIDR notation, e.g. 203.0.113.0/24 or 2001:db8::/48, with no host bits set.");
            }

            if (!IpAllowListRules.Allows(list, address))
            {
                return new Refusal("ip_lockout", "This list does not include your current address, so saving it would lock you out. Add your network first.");
            }

            p.IpAllowList = list;
            return null;
        }, HttpContext.RequestAborted);
        return Answer(result, IpAllowListPath, IpAllowListView);
    }

    [HttpGet("connection")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> Connection()
    {
        var tenant = Current.Tenant;
        var latest = connectionReports.Latest(tenant.Id);
        var tested = handover.Take<ConnectionTested>(Request, Response, ConnectionTestedPurpose, Agent, ConnectionPath);
        return View(new ConnectionPage(tenant.Idp.Kind, latest, tested is not null)
        {
            TestedElsewhere = tested is not null && latest?.CheckedAt != tested.CheckedAt ? tested.Summary : null,
            ReconciliationEnabled = tenant.Reconciliation.Enabled,
            ReconciliationPollSeconds = tenant.Reconciliation.PollSeconds,
            Reconciliation = tenant.Reconciliation.Enabled ? await reconciliation.GetAsync(tenant.Id, HttpContext.RequestAborted) : null,
            Now = clock.GetUtcNow(),
        });
    }

    /// <summary>
    /// Runs the onboarding check of the tenant's IdP connection now: harmless reads only, nothing changed at the IdP.
    /// Audited as <c>admin.connection_test</c> (succeeded when the credential works, else failed) with the summary:
    /// operation names and states only, no host or secret.
    /// </summary>
    [HttpPost("connection/test")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> TestConnection()
    {
        var tenant = Current.Tenant;
        var pending = await audit.BeginAsync(AuditEntries.For(Current, "admin.connection_test", Portal.Audit.AuditOutcome.Pending), HttpContext.RequestAborted);
        var report = await connectionChecks.RunAsync(tenant, HttpContext.RequestAborted);
        await audit.CompleteAsync(
            pending,
            report.Credentials == Portal.Idp.CapabilityState.Available ? Portal.Audit.AuditOutcome.Succeeded : Portal.Audit.AuditOutcome.Failed,
            TenantConnectionReports.Summary(report),
            CancellationToken.None);

        // Post/Redirect/Get: F5 on the report runs no second test. The report itself is this instance's latest; the
        // browser carries only when it was taken and its one-line summary, for a GET that lands on another instance.
        handover.Keep(Response, ConnectionTestedPurpose, Agent, ConnectionPath, new ConnectionTested(report.CheckedAt, TenantConnectionReports.Summary(report)), clock.GetUtcNow() + SavedLifetime);
        return this.SeeOther(ConnectionPath);
    }

    private const string ConnectionPath = "/admin/connection";
    private const string ConnectionTestedPurpose = "admin-connection-tested";

    private sealed record ConnectionTested(DateTimeOffset CheckedAt, string Summary);

    [HttpGet("changes")]
    [Authorize(Policy = Permissions.AdminSettings)]
    public async Task<IActionResult> Changes() =>
        View(new ChangesPage(await admin.RecentChangesAsync(Agent.TenantId, 50, HttpContext.RequestAborted)));

    private async Task<IActionResult> ChangeTiersAsync(string action, Func<TenantPolicy, Refusal?> change) =>
        Answer(await admin.ChangeAsync(Current, action, change, HttpContext.RequestAborted), TiersPath, TiersView);

    /// <summary>
    /// Post/Redirect/Get for a saved change: the page is shown again by GET with what was saved (once), so F5 and Back
    /// never save twice. A refused change is answered with the form itself (422) and its message.
    /// </summary>
    private IActionResult Answer(AdminChangeResult result, string page, Func<AdminChangeResult, ViewResult> refused, string? newSigningKey = null)
    {
        if (!result.Succeeded)
        {
            return refused(result);
        }

        handover.Keep(Response, SavedPurpose, Agent, page, new SavedChange(Shown(result), newSigningKey), clock.GetUtcNow() + SavedLifetime);
        return this.SeeOther(page);
    }

    /// <summary>What was saved just before this page was asked for, shown this once (a new signing key too).</summary>
    private SavedChange? TakeSaved(string page) => handover.Take<SavedChange>(Request, Response, SavedPurpose, Agent, page);

    private static AdminChangeResult Shown(AdminChangeResult result)
    {
        var shown = new List<SettingChange>();
        var length = 0;
        foreach (var change in result.Changes)
        {
            length += change.Field.Length + (change.Before?.Length ?? 0) + (change.After?.Length ?? 0);
            if (length > MaxShownDiffCharacters)
            {
                return result with { Message = result.Message + " More changes are listed under Changes.", Changes = shown };
            }

            shown.Add(change);
        }

        return result;
    }

    private sealed record SavedChange(AdminChangeResult Result, string? NewSigningKey)
    {
        public override string ToString() => $"SavedChange {{ Result = {Result.Message}, NewSigningKey = {(NewSigningKey is null ? "none" : "[redacted]")} }}";
    }

    private ViewResult TiersView(AdminChangeResult? result) => TiersView(result, null);

    private ViewResult TiersView(AdminChangeResult? result, NewTierInput? newTier)
    {
        var policy = admin.Current(Agent.TenantId);
        Refused(result);
        return View("Tiers", new TiersPage(policy.Tiers, policy.GroupTiers, result, newTier));
    }

    private ViewResult PolicyView(AdminChangeResult? result, string? newKey)
    {
        Refused(result);
        return View("Policy", new PolicyPage(admin.Current(Agent.TenantId), CallerAction.All, result, newKey));
    }

    private ViewResult RecoveryView(AdminChangeResult? result) => RecoveryView(result, null, null);

    /// <summary>The recovery page; a refused change shows what the admin typed (<paramref name="typedSwitches"/>, <paramref name="typedGroups"/>) instead of what is stored.</summary>
    private ViewResult RecoveryView(AdminChangeResult? result, RecoverySwitches? typedSwitches, string? typedGroups)
    {
        var policy = admin.Current(Agent.TenantId);
        var tenant = Current.Tenant;
        Refused(result);
        return View("Recovery", new RecoveryPage(
            typedSwitches ?? policy.Recovery ?? RecoverySwitches.From(tenant.Recovery),
            typedGroups ?? string.Join("\n", policy.ExecutiveTargets?.Groups ?? tenant.ExecutiveTargets.Groups),
            tenant.Recovery.Notices.Smtp.IsConfigured,
            tenant.Idp.Kind,
            policy.HeightenedMode.On,
            admin.IndexOf(Agent.TenantId),
            result));
    }

    private ViewResult IpAllowListView(AdminChangeResult? result)
    {
        var policy = admin.Current(Agent.TenantId);
        var address = addresses.Resolve(HttpContext);
        Refused(result);
        return View("IpAllowList", new IpAllowListPage(policy.IpAllowList, address?.ToString(), IpAllowListRules.Allows(policy.IpAllowList, address), addresses.TrustedProxyHops, result));
    }

    private void Refused(AdminChangeResult? result)
    {
        if (result is { Succeeded: false })
        {
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        }
    }

    private static List<string> KnownPermissions(string[]? permissions) =>
        [.. Permissions.All.Where(p => permissions?.Contains(p, StringComparer.Ordinal) == true)];

    private static List<string> Lines(string? text) =>
        [.. (text ?? "").Split(['\n', '\r', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
