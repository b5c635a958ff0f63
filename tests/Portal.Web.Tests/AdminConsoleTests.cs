using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;
using Portal.Web.Agents;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>The tenant admin console: tiers, groups and policy changes, each validated, applied at once and audited with a diff.</summary>
public sealed class AdminConsoleTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task CreateTierAndMapGroup_AppliedAtOnceAndAuditedWithDiff()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);

        var created = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/create", ("name", "Tier 4"), ("permissions", "caller.lookup"), ("permissions", "audit.read"), ("permissions", "no.such"));
        var mapped = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/groups/map", ("group", "Helpdesk Tier 4"), ("tier", "Tier 4"));

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, mapped.StatusCode);
        var tenant = Catalog().Find(PortalTestHost.TenantId)!;
        var tier = Assert.Single(tenant.EffectiveTiers(), t => t.Name == "Tier 4");
        Assert.Equal(["caller.lookup", "audit.read"], tier.Permissions);
        Assert.Equal("Tier 4", tenant.GroupTiers["Helpdesk Tier 4"]);

        var audit = await TenancyTestKit.AuditAsync(_host);
        var record = Assert.Single(audit, d => (string)d["action"]! == "admin.tiers.create");
        Assert.Equal("succeeded", (string)record["outcome"]!);
        var diff = await _host.Store.GetAsync(new DocumentKey(CollectionPath.ForTenant(PortalTestHost.TenantId, "settingsChanges"), (string)record["id"]!));
        Assert.NotNull(diff);
        var change = Assert.Single(diff.Data["changes"]!.AsArray());
        Assert.Equal("tiers[Tier 4]", (string)change!["field"]!);
        Assert.Null(change["before"]);
        Assert.Equal("audit.read caller.lookup", (string)change["after"]!);
        Assert.DoesNotContain("@", diff.Data.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerificationPolicy_OutOfRange_RefusedInTheConsolesWords_NotSettingKeys()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);

        var refused = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/verification",
            ("sessionMinutes", "45"), ("maxFailuresBeforeCooldown", "5"), ("cooldownMinutes", "15"), ("maxPushesPerWindow", "3"), ("pushWindowMinutes", "10"), ("alarmCooldownMinutes", "60"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var page = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        Assert.Contains("The verification lifetime (minutes) must be between 2 and 30.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Verification:SessionMinutes", page, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryRuleFailure_InWords_LeavesNoSettingKey()
    {
        var bad = new TenantSettings
        {
            Id = "t",
            Verification = new VerificationPolicySettings { SessionMinutes = 0, MaxFailuresBeforeCooldown = 0, CooldownMinutes = 0, MaxPushesPerWindow = 0 },
            AuditRetentionDays = 0,
            CallScripts = new CallScriptSettings { NoFactor = "", Escalation = "" },
            Tiers = [new TierSettings { Name = "", Permissions = ["no.such"] }, new TierSettings { Name = "T", Permissions = ["no.such"] }, new TierSettings { Name = "T" }],
            GroupTiers = new Dictionary<string, string> { [""] = "nowhere", ["g"] = "nowhere" },
            ActionMethods = new Dictionary<string, List<string>> { ["no_such"] = [], ["mfa_reset"] = [] },
            PrivilegedGroups = [""],
            IpAllowList = ["not a network"],
            AlertWebhook = new AlertWebhookSettings { Url = "http://user:pw@10.0.0.1/", SigningSecretSecret = "plain" },
        };
        var failures = new List<string>();

        TenantPolicyRules.Check(bad, "", failures, development: false);

        Assert.True(failures.Count >= 12, string.Join(Environment.NewLine, failures));
        string[] keys = ["Verification:", "AuditRetentionDays", "CallScripts", "AlertWebhook", "ActionMethods", "GroupTiers", "PrivilegedGroups", "IpAllowList", "SigningSecretSecret", "Tiers '"];
        foreach (var failure in failures)
        {
            var words = TenantAdministration.InWords(failure.TrimStart(':'));
            Assert.False(keys.Any(k => words.Contains(k, StringComparison.Ordinal)), $"'{words}' still names a setting key.");
        }
    }

    [Fact]
    public async Task CallScripts_SavedByTheAdmin_ShownForACallerWithNoFactor_HistoryKeepsNoText()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        const string NoFactor = "Send the caller to the Level 3 service desk with a photo ID; do nothing on the phone.";
        const string Escalation = "Transfer the call to the duty security lead on extension 4400.";

        var empty = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/scripts", ("noFactor", "  "), ("escalation", Escalation));
        var tooLong = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/scripts", ("noFactor", new string('x', 1001)), ("escalation", Escalation));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty.StatusCode);
        Assert.Contains("What to do when the caller has no usable factor must not be empty.", WebUtility.HtmlDecode(await empty.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
        Assert.Equal(CallScriptSettings.DefaultNoFactor, Catalog().Find(PortalTestHost.TenantId)!.CallScripts.NoFactor);

        var saved = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/scripts", ("noFactor", NoFactor), ("escalation", Escalation));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);

        // Carol has only SMS and e-mail factors: the console gives the tenant's own words.
        var agent = new ConsoleDriver(_host, await _host.SignInAsync("tier3.agent@demo.example"));
        var console = WebUtility.HtmlDecode(await agent.LookupAsync("carol.caller@demo.example"));
        Assert.Contains($"data-field=\"no-factor-script\">{NoFactor}<", console, StringComparison.Ordinal);
        Assert.Contains($"data-field=\"escalation\">{Escalation}<", console, StringComparison.Ordinal);

        var record = Assert.Single(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "admin.policy.call_scripts" && (string)d["outcome"]! == "succeeded");
        var diff = await _host.Store.GetAsync(new DocumentKey(CollectionPath.ForTenant(PortalTestHost.TenantId, "settingsChanges"), (string)record["id"]!));
        var changes = diff!.Data["changes"]!.AsArray().Select(c => (string)c!["field"]!).Order().ToList();
        Assert.Equal(["callScripts.escalation", "callScripts.noFactor"], changes);
        Assert.DoesNotContain("4400", diff.Data.ToJsonString(), StringComparison.Ordinal);
        Assert.Matches("^" + NoFactor.Length + " characters #[0-9a-f]{8}$", (string)diff.Data["changes"]!.AsArray().First(c => (string)c!["field"]! == "callScripts.noFactor")!["after"]!);
    }

    [Theory]
    [InlineData("/admin/tiers/delete", "name", "Tenant admin", null, null)]
    [InlineData("/admin/groups/unmap", "group", "Helpdesk Admins", null, null)]
    [InlineData("/admin/tiers/permissions", "name", "Tenant admin", "permissions", "audit.read")]
    public async Task Change_RemovingTheLastReachableAdminTier_Refused(string path, string field, string value, string? extraField, string? extraValue)
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        (string, string)[] fields = extraField is null ? [(field, value)] : [(field, value), (extraField, extraValue!)];

        var refused = await TenancyTestKit.PostAsync(admin, "/admin/tiers", path, fields);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains(Catalog().Find(PortalTestHost.TenantId)!.EffectiveTiers(), t => t.Name == "Tenant admin" && t.Permissions.Contains("admin.tiers"));
        Assert.Equal("Tenant admin", Catalog().Find(PortalTestHost.TenantId)!.GroupTiers["Helpdesk Admins"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/tiers")).StatusCode);
        Assert.Contains(await TenancyTestKit.AuditAsync(_host), d => ((string)d["action"]!).StartsWith("admin.", StringComparison.Ordinal) && (string)d["reason"]! == "last_admin_tier");
    }

    [Fact]
    public async Task RenameAndDeleteTier_MappingsFollow_PermissionsApplyOnTheNextRequest()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        var tier2 = await _host.SignInAsync(TenancyTestKit.Tier2);
        Assert.Equal(HttpStatusCode.OK, (await tier2.GetAsync("/console")).StatusCode);

        var removed = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/permissions", ("name", "Tier 2"), ("permissions", "caller.verify"));
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tier2.GetAsync("/console")).StatusCode);

        var renamed = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/rename", ("name", "Tier 1"), ("newName", "First line"));
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("First line", Catalog().Find(PortalTestHost.TenantId)!.GroupTiers["Helpdesk Tier 1"]);

        var deleted = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/delete", ("name", "First line"));
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.False(Catalog().Find(PortalTestHost.TenantId)!.GroupTiers.ContainsKey("Helpdesk Tier 1"));
    }

    [Fact]
    public async Task VerificationPolicy_OutOfRangeRefused_ValidSavedWithBeforeAndAfter()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        (string, string)[] valid = [("sessionMinutes", "5"), ("maxFailuresBeforeCooldown", "3"), ("cooldownMinutes", "20"), ("maxPushesPerWindow", "2"), ("pushWindowMinutes", "10"), ("alarmCooldownMinutes", "120")];

        var refused = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/verification", [("sessionMinutes", "45"), .. valid.Skip(1)]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Equal(10, Catalog().Find(PortalTestHost.TenantId)!.Verification.SessionMinutes);

        var saved = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/verification", valid);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var page = await saved.Content.ReadAsStringAsync();
        Assert.Contains("verification.sessionMinutes", page, StringComparison.Ordinal);

        // What was saved is said once: F5 on the page does not say it again.
        var reloaded = await (await admin.GetAsync("/admin/policy")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("verification.sessionMinutes", reloaded, StringComparison.Ordinal);
        var policy = Catalog().Find(PortalTestHost.TenantId)!.Verification;
        Assert.Equal(5, policy.SessionMinutes);
        Assert.Equal(120, policy.AlarmCooldownMinutes);

        var stored = await _host.Store.GetAsync(new DocumentKey(new CollectionPath("tenants"), PortalTestHost.TenantId));
        Assert.Equal(5, (int)stored!.Data["verification"]!["sessionMinutes"]!);
    }

    [Fact]
    public async Task Catalog_ChangeWrittenByAnotherInstance_ServedAfterRefresh()
    {
        var key = new DocumentKey(new CollectionPath("tenants"), PortalTestHost.TenantId);
        var document = (await _host.Store.GetAsync(key))!.Data;
        document["ipAllowList"] = new JsonArray("192.0.2.0/24");
        document["revision"] = 7;
        await _host.Store.SetAsync(key, document, null);
        Assert.Empty(Catalog().Find(PortalTestHost.TenantId)!.IpAllowList);

        await _host.Factory.Services.GetRequiredService<TenantCatalog>().RefreshAsync(CancellationToken.None);

        Assert.Equal(["192.0.2.0/24"], Catalog().Find(PortalTestHost.TenantId)!.IpAllowList);
    }

    [Fact]
    public async Task AdminPages_AgentWithoutAdminPermission_Forbidden()
    {
        var tier3 = await _host.SignInAsync(TenancyTestKit.Tier3);
        var token = PortalTestHost.FormToken(await (await tier3.GetAsync("/console")).Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Forbidden, (await tier3.GetAsync("/admin/tiers")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PortalTestHost.PostFormAsync(tier3, "/admin/tiers/delete", token, ("name", "Tier 1"))).StatusCode);
        Assert.Contains(Catalog().Find(PortalTestHost.TenantId)!.EffectiveTiers(), t => t.Name == "Tier 1");
    }

    [Fact]
    public async Task CreateTier_Refused_FormKeepsWhatWasTypedAndTicked_TiersShownAsAGrid()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);

        var refused = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/create", ("name", "Tier 1"), ("permissions", "caller.lookup"), ("permissions", "audit.read"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var page = await refused.Content.ReadAsStringAsync();
        Assert.Contains("A tier with that name exists already.", page, StringComparison.Ordinal);
        Assert.Contains("id=\"new-tier\" type=\"text\" name=\"name\" required maxlength=\"64\" value=\"Tier 1\"", page, StringComparison.Ordinal);
        Assert.Matches("id=\"new-caller-lookup\"[^>]*checked", page);
        Assert.Matches("id=\"new-audit-read\"[^>]*checked", page);
        Assert.DoesNotMatch("id=\"new-caller-verify\"[^>]*checked", page);

        // One row per permission in words, one column per tier, each column saved by its own form.
        Assert.Contains("data-field=\"tier-grid\"", page, StringComparison.Ordinal);
        Assert.Contains("Issue temporary access codes", page, StringComparison.Ordinal);
        Assert.Contains("form=\"tier-0\" name=\"permissions\" value=\"caller.lookup\"", page, StringComparison.Ordinal);
        Assert.Contains("<form id=\"tier-0\" method=\"post\" action=\"/admin/tiers/permissions\">", page, StringComparison.Ordinal);
    }

    /// <summary>F5: a tenant admin cannot give their own tier (or any admin tier) the power to verify a caller and act.</summary>
    [Theory]
    [InlineData("/admin/tiers/permissions", "name", "Tenant admin")]
    [InlineData("/admin/tiers/create", "name", "Admin and helpdesk")]
    public async Task Admin_GrantingAnAdminTierCallerOrActionPermissions_RefusedAsSeparationOfDuties(string path, string field, string value)
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);

        var refused = await TenancyTestKit.PostAsync(admin, "/admin/tiers", path, (field, value),
            ("permissions", "admin.tiers"), ("permissions", "admin.settings"), ("permissions", "admin.ip_allowlist"),
            ("permissions", "caller.lookup"), ("permissions", "caller.verify"), ("permissions", "action.tap_issue"), ("permissions", "action.mfa_reset"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("separation of duties", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var tiers = Catalog().Find(PortalTestHost.TenantId)!.EffectiveTiers();
        Assert.DoesNotContain(tiers, t => t.Permissions.Contains("admin.tiers") && t.Permissions.Any(p => p.StartsWith("caller.", StringComparison.Ordinal) || p.StartsWith("action.", StringComparison.Ordinal)));
        var record = Assert.Single(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == path.Replace("/admin/", "admin.", StringComparison.Ordinal).Replace('/', '.'));
        Assert.Equal("denied", (string)record["outcome"]!);
        Assert.Equal("separation_of_duties", (string)record["reason"]!);

        // And the admin still cannot reach a caller.
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("/console")).StatusCode);
    }

    /// <summary>F5 at run time: an agent whose groups map to an admin tier and a helpdesk tier at once gets the admin tier's permissions only.</summary>
    [Fact]
    public void PermissionsOf_AdminAndHelpdeskTiersTogether_HoldNoCallerOrActionPermission()
    {
        var tenant = new TenantSettings { Id = "t" };

        var held = PermissionHandler.PermissionsOf(tenant, ["Tenant admin", "Tier 3"]);
        var tier3Only = PermissionHandler.PermissionsOf(tenant, ["Tier 3"]);

        Assert.Contains("admin.tiers", held);
        Assert.DoesNotContain(held, p => p.StartsWith("caller.", StringComparison.Ordinal) || p.StartsWith("action.", StringComparison.Ordinal));
        Assert.Contains("action.tap_issue", tier3Only);
    }

    /// <summary>F6: a new admin tier mapped to a group nobody has cannot stand in for the acting admin's own.</summary>
    [Fact]
    public async Task LastAdminGuard_ShadowAdminTierThenDeleteOwnTier_RefusedAndAdminKeepsAccess()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/create", ("name", "Shadow admin"), ("permissions", "admin.tiers"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/groups/map", ("group", "Group nobody has"), ("tier", "Shadow admin"))).StatusCode);

        var deleted = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/delete", ("name", "Tenant admin"));
        var unmapped = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/groups/unmap", ("group", "Helpdesk Admins"));
        var stripped = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/permissions", ("name", "Tenant admin"), ("permissions", "audit.read"));
        var renamed = await TenancyTestKit.PostAsync(admin, "/admin/tiers", "/admin/tiers/rename", ("name", "Tenant admin"), ("newName", "Old admins"));

        Assert.All([deleted, unmapped, stripped, renamed], r => Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode));
        Assert.Contains(Catalog().Find(PortalTestHost.TenantId)!.EffectiveTiers(), t => t.Name == "Tenant admin" && t.Permissions.Contains("admin.tiers"));
        Assert.Equal("Tenant admin", Catalog().Find(PortalTestHost.TenantId)!.GroupTiers["Helpdesk Admins"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/tiers")).StatusCode);
        var audit = await TenancyTestKit.AuditAsync(_host);
        Assert.Equal(4, audit.Count(d => (string)d["outcome"]! == "denied" && (string)d["reason"]! == "admin_lockout"));

        // A fresh sign-in still reaches the console: the admin was never locked out.
        var again = await _host.SignInAsync(TenancyTestKit.Admin);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/admin/tiers")).StatusCode);
    }

    private ITenantCatalog Catalog() => _host.Factory.Services.GetRequiredService<ITenantCatalog>();
}
