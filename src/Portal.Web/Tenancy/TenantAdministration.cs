using System.Security.Cryptography;
using System.Text;
using Portal.Audit;
using Portal.Storage;
using Portal.Web.Agents;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>One changed setting: its path and its value before and after (settings only; never PII or a secret).</summary>
public sealed record SettingChange(string Field, string? Before, string? After);

/// <summary>What the admin console shows after a change; <see cref="RefusedCode"/> is the refusal's code when it was refused.</summary>
public sealed record AdminChangeResult(bool Succeeded, string Message, IReadOnlyList<SettingChange> Changes)
{
    public string? RefusedCode { get; init; }
}

/// <summary>
/// Who makes a change to a tenant's settings: a signed-in tenant admin, or a tenant API key of the
/// <c>heightened:write</c> scope switching heightened-threat mode (docs/tenancy.md, "Heightened-threat mode").
/// <see cref="Tiers"/> is null for a key, which holds no tier and so has no admin access of its own to keep.
/// </summary>
public sealed record AdminActor(string TenantId, string Subject, string MaskedLogin, IReadOnlyList<string>? Tiers, Func<string, AuditOutcome, AuditEntry> Entry)
{
    public static AdminActor Of(AgentRequest request) => new(
        request.Agent.TenantId, request.Agent.Subject, request.Agent.MaskedLogin, request.Agent.Tiers, (action, outcome) => AuditEntries.For(request, action, outcome));

    /// <summary>A key of the tenant: audited as the SIEM pull names it (<c>apikey:{id}</c>, login <c>apikey</c>).</summary>
    public static AdminActor Of(ApiKeyContext key, RequestContext origin) => new(
        key.TenantId, ApiKeyAuthentication.SubjectOf(key.KeyId), ApiKeyAuthentication.ActorLogin, null,
        (action, outcome) => ApiKeyAuthentication.EntryFor(origin, key.TenantId, key.KeyId, action, outcome, null));
}

/// <summary>The before/after diff of one admin change, kept beside its audit record for as long as the audit trail.</summary>
public sealed record SettingsChangeRecord
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string AuditRecordId { get; init; }

    public required string Action { get; init; }

    public required DateTimeOffset At { get; init; }

    public required IReadOnlyList<SettingChange> Changes { get; init; }
}

/// <summary>
/// Every change a tenant admin makes: one atomic update of <c>tenants/{tenantId}</c> (so two admins on two
/// instances cannot lose each other's edits), validated by the same rules as configuration, refused when
/// it would leave the tenant without a reachable admin tier, and audited fail-closed (the record is written
/// before the change; if it cannot be, nothing changes) with a before/after diff.
/// </summary>
public sealed class TenantAdministration(
    TenantCatalog catalog,
    IDocumentStore store,
    IAuditTrail audit,
    IAuditRetention retention,
    IHostEnvironment environment,
    TimeProvider clock)
{
    /// <summary>The outcome of one change function: null when the change is fine, else a reason code and a message for the admin.</summary>

    public static CollectionPath ChangesCollection(string tenantId) => CollectionPath.ForTenant(tenantId, "settingsChanges");

    /// <summary>The position of the tenant in the settings, to name a setting (<c>Portal:Tenants:N:…</c>) on a page.</summary>
    public int IndexOf(string tenantId) => catalog.IndexOf(tenantId);

    public TenantPolicy Current(string tenantId) => catalog.PolicyOf(tenantId) ?? throw new InvalidOperationException("The signed-in agent's tenant is not configured.");

    /// <summary>
    /// Applies <paramref name="change"/> to the agent's own tenant. The function may run more than once (the
    /// store retries a contended update) and must only change the policy it is given.
    /// </summary>
    public Task<AdminChangeResult> ChangeAsync(AgentRequest request, string action, Func<TenantPolicy, Refusal?> change, CancellationToken ct) =>
        ChangeAsync(AdminActor.Of(request), action, change, ct);

    /// <summary>Applies <paramref name="change"/> to the actor's own tenant, as <see cref="ChangeAsync(AgentRequest, string, Func{TenantPolicy, Refusal?}, CancellationToken)"/>.</summary>
    public async Task<AdminChangeResult> ChangeAsync(AdminActor actor, string action, Func<TenantPolicy, Refusal?> change, CancellationToken ct)
    {
        var tenantId = actor.TenantId;
        var configured = catalog.Configured(tenantId) ?? throw new InvalidOperationException("The actor's tenant is not configured.");

        // D2/D3: the record exists before the change; if the trail cannot be written, nothing changes.
        var pending = await audit.BeginAsync(actor.Entry(action, AuditOutcome.Pending), ct);
        var (refused, before, after) = await store.UpdateAsync(TenantCatalog.KeyOf(tenantId), current =>
        {
            var before = current is not null && TenantCatalog.TryRead(current, out var stored) ? stored.WithMissingSectionsFrom(configured) : TenantPolicy.From(configured);
            var after = before.Copy();
            var refusal = change(after) ?? Validate(configured, after, actor);
            if (refusal is not null)
            {
                return DocumentMutation<(Refusal?, TenantPolicy, TenantPolicy?)>.Keep((refusal, before, null));
            }

            after.Revision = before.Revision + 1;
            return DocumentMutation<(Refusal?, TenantPolicy, TenantPolicy?)>.Write(DocumentJson.ToDocument(after), null, (null, before, after));
        }, ct);

        if (refused is not null || after is null)
        {
            await audit.CompleteAsync(pending, AuditOutcome.Denied, refused?.Code ?? "refused", CancellationToken.None);
            return new AdminChangeResult(false, refused?.Message ?? "The change was refused.", []) { RefusedCode = refused?.Code ?? "refused" };
        }

        catalog.Apply(tenantId, after);
        var changes = Diff(before, after);
        var now = clock.GetUtcNow();
        var record = new SettingsChangeRecord
        {
            Id = pending.RecordId,
            TenantId = tenantId,
            AuditRecordId = pending.RecordId,
            Action = action,
            At = now,
            Changes = changes,
        };
        await store.SetAsync(new DocumentKey(ChangesCollection(tenantId), pending.RecordId), DocumentJson.ToDocument(record), now + retention.For(tenantId), CancellationToken.None);
        await audit.CompleteAsync(pending, AuditOutcome.Succeeded, changes.Count == 0 ? "no_change" : "changed:" + string.Join(',', changes.Select(c => c.Field)), CancellationToken.None);
        return new AdminChangeResult(true, changes.Count == 0 ? "Nothing changed." : "Saved. Every portal instance applies it within a few seconds.", changes);
    }

    /// <summary>The latest changes of a tenant, newest first.</summary>
    public async Task<IReadOnlyList<SettingsChangeRecord>> RecentChangesAsync(string tenantId, int limit, CancellationToken ct)
    {
        var query = new DocumentQuery(ChangesCollection(tenantId))
        {
            OrderBy = new FieldOrder("at", Descending: true),
            Limit = limit,
        };
        var list = new List<SettingsChangeRecord>();
        await foreach (var doc in store.QueryAsync(query, ct))
        {
            list.Add(DocumentJson.FromDocument<SettingsChangeRecord>(doc.Data));
        }

        return list;
    }

    private Refusal? Validate(TenantSettings configured, TenantPolicy policy, AdminActor actor)
    {
        var effective = policy.ApplyTo(configured);
        var failures = new List<string>();
        TenantPolicyRules.Check(effective, "", failures, environment.IsDevelopment());
        if (failures.Count > 0)
        {
            var code = failures.Any(f => f.Contains("separation of duties", StringComparison.Ordinal)) ? "separation_of_duties" : "invalid";
            return new Refusal(code, string.Join(" ", failures.Select(f => InWords(f.TrimStart(':')))));
        }

        // F6: checked on every change, not only on deletions. The admin who makes the change keeps admin access
        // (a new admin tier mapped to a group nobody has cannot replace theirs), and some IdP group still maps to
        // an admin tier, so the tenant never needs the operator to be administered again.
        var tiers = effective.EffectiveTiers();
        if (!TenantPolicyRules.HasReachableAdminTier(tiers, effective.GroupTiers))
        {
            return new Refusal("last_admin_tier", "This change would leave no tier with the admin.tiers permission that an IdP group maps to. Keep at least one.");
        }

        // A key holds no tier: there is no admin access of its own for a change to take away.
        return actor.Tiers is null || TenantPolicyRules.KeepsAdminAccess(tiers, effective.GroupTiers, actor.Tiers)
            ? null
            : new Refusal("admin_lockout", "This change would take away your own admin access (the admin.tiers permission of your tier, mapped from an IdP group). Another admin must make it.");
    }

    /// <summary>Flattens both policies to field paths and compares them. Signing keys appear only as a fingerprint of their ciphertext.</summary>
    public static IReadOnlyList<SettingChange> Diff(TenantPolicy before, TenantPolicy after)
    {
        var a = Flatten(before);
        var b = Flatten(after);
        return [.. a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
            .Select(k => new SettingChange(k, a.GetValueOrDefault(k), b.GetValueOrDefault(k)))
            .Where(c => c.Before != c.After)];
    }

    // The rules are shared with start-up, where a failure names the setting's key; an admin reads the setting's name
    // as the console shows it. Longest keys first, so that "Verification:CooldownMinutes" is not read as a shorter key.
    private static readonly (string Key, string Words)[] SettingNames =
    [
        ("Verification:CooldownMinutes must be 1-1440 and AlarmCooldownMinutes 1-10080.", "The cool-down after failures must be 1–1440 minutes, and the block after a rejected push or \"not me\" 1–10080 minutes."),
        ("Verification:MaxPushesPerWindow must be 1-10 and PushWindowMinutes 1-60.", "Pushes per caller must be 1–10, within 1–60 minutes."),
        ("Verification:MaxFailuresBeforeCooldown", "Failed attempts before a cool-down"),
        ("Verification:SessionMinutes", "The verification lifetime (minutes)"),
        ("AuditRetentionDays", "Audit retention (days)"),
        ("CallScripts:NoFactor", "The script for a caller with no usable factor"),
        ("CallScripts:Escalation", "The escalation script"),
        ("AlertWebhook needs a signing key (SigningSecretSecret in configuration, or one generated in the admin console).", "The webhook needs a signing key: generate one on this page."),
        ("AlertWebhook:SigningSecretSecret", "The webhook's signing key reference"),
        ("AlertWebhook:Url", "The webhook URL"),
        ("Recovery:ManagerApproval in an Entra tenant needs :StepUp:Authority (docs/recovery.md)", "Manager approval in a Microsoft Entra organisation needs step-up sign-in, which your operator sets in configuration (StepUp:Authority)"),
        ("Recovery:IdVerification is available for Okta organisations only (docs/recovery.md)", "ID verification is available for Okta organisations only"),
        ("Recovery:ManagerApproval needs :Recovery:Notices:Smtp:Host (docs/recovery.md)", RelayWords("Manager approval")),
        ("Recovery:CallBack needs :Recovery:Notices:Smtp:Host (docs/recovery.md)", RelayWords("The call-back")),
        ("Recovery:IdVerification needs :Recovery:Notices:Smtp:Host (docs/recovery.md)", RelayWords("ID verification")),
        ("ExecutiveTargets:Groups", "Executive groups"),
        ("ActionMethods names", "The action policy names"),
        ("ActionMethods:", "The accepted methods of action "),
        ("GroupTiers maps", "The group mapping maps"),
        ("GroupTiers:", "Group mapping:"),
        ("PrivilegedGroups:", "Privileged groups:"),
        ("IpAllowList", "The IP allow-list"),
        ("Tiers:", "Tiers:"),
        ("Tiers '", "Tier '"),
    ];

    private static string RelayWords(string method) =>
        $"{method} needs the SMTP relay of the recovery notices, which your operator sets in configuration (Recovery:Notices:Smtp), not in the console";

    /// <summary>A rule's failure with the setting's key replaced by its name in the console.</summary>
    internal static string InWords(string failure)
    {
        foreach (var (key, words) in SettingNames)
        {
            if (failure.StartsWith(key, StringComparison.Ordinal))
            {
                return words + failure[key.Length..];
            }
        }

        return failure;
    }

    private static Dictionary<string, string> Flatten(TenantPolicy p)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tier in p.Tiers)
        {
            fields[$"tiers[{tier.Name}]"] = string.Join(' ', tier.Permissions.Order(StringComparer.Ordinal));
        }

        foreach (var map in p.GroupTiers)
        {
            fields[$"groupTiers[{map.Group}]"] = map.Tier;
        }

        foreach (var rule in p.ActionMethods)
        {
            fields[$"actionMethods[{rule.Action}]"] = string.Join(' ', rule.Methods);
        }

        var v = p.Verification;
        fields["verification.sessionMinutes"] = v.SessionMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields["verification.maxFailuresBeforeCooldown"] = v.MaxFailuresBeforeCooldown.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields["verification.cooldownMinutes"] = v.CooldownMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields["verification.maxPushesPerWindow"] = v.MaxPushesPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields["verification.pushWindowMinutes"] = v.PushWindowMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields["verification.alarmCooldownMinutes"] = v.AlarmCooldownMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields["privilegedGroups"] = string.Join(", ", p.PrivilegedGroups);
        fields["ipAllowList"] = string.Join(' ', p.IpAllowList);
        // The history keeps scheme and host only: the path of a webhook URL is often the receiver's secret (F10).
        // A changed URL on the same host still shows as a change, through a fingerprint of the whole URL.
        fields["alertWebhook.url"] = string.IsNullOrEmpty(p.AlertWebhook.Url)
            ? ""
            : WebhookDestinations.Redact(p.AlertWebhook.Url) + " #" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(p.AlertWebhook.Url)))[..8];
        fields["alertWebhook.signingKey"] = string.IsNullOrEmpty(p.AlertWebhook.SigningSecretProtected)
            ? (string.IsNullOrEmpty(p.AlertWebhook.SigningSecretSecret) ? "none" : "reference")
            : "generated#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(p.AlertWebhook.SigningSecretProtected)))[..8];
        fields["auditRetentionDays"] = p.AuditRetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // A script is free text (it may name a person or a phone number): the history keeps its length and a fingerprint.
        fields["callScripts.noFactor"] = Fingerprint(p.CallScripts.NoFactor);
        fields["callScripts.escalation"] = Fingerprint(p.CallScripts.Escalation);
        fields["heightenedMode.on"] = p.HeightenedMode.On ? "on" : "off";
        fields["heightenedMode.reason"] = p.HeightenedMode.Reason;
        fields["heightenedMode.since"] = p.HeightenedMode.Since is { } since ? DocumentJson.FormatTimestamp(since) : "";
        if (p.Recovery is { } recovery)
        {
            fields["recovery.managerApproval"] = OnOff(recovery.ManagerApproval);
            fields["recovery.callBack"] = OnOff(recovery.CallBack);
            fields["recovery.idVerification"] = OnOff(recovery.IdVerification);
            fields["recovery.requireSecondAgent"] = OnOff(recovery.RequireSecondAgent);
        }

        if (p.ExecutiveTargets is { } executives)
        {
            fields["executiveTargets.groups"] = string.Join(", ", executives.Groups);
        }

        return fields;
    }

    private static string OnOff(bool value) => value ? "on" : "off";

    private static string Fingerprint(string text) =>
        $"{text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)} characters #{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8]}";
}
