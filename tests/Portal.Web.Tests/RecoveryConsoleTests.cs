using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// The recovery page of the admin console (docs/recovery.md, "Turning recovery on in the console"), over HTTP: a tenant
/// admin turns the recovery methods on and off and names the executive groups; every change is validated by the start-up
/// rules (refused in words, with what the admin typed kept), audited with its before/after, and a change that loosens
/// recovery is sent to the tenant's webhook; heightened-threat mode holds back what it enforces; the console follows at
/// once; another tenant's admin reaches only their own tenant.
/// </summary>
/// <remarks>
/// One portal (two tenants, a webhook receiver; the second tenant has no notices' relay) serves the class. The switches
/// are tenant-wide, so each test's clean-up puts the first tenant back as configured (the demo's: manager approval,
/// call-back and ID verification on, no second agent, the group "Executives") and heightened-threat mode off.
/// </remarks>
public sealed class RecoveryConsoleTests(HeightenedModeTests.Fixture fixture) : IClassFixture<HeightenedModeTests.Fixture>, IAsyncLifetime
{
    private const string Other = PortalTestHost.SecondTenantId;
    private const string Page = "/admin/recovery";

    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _admin = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Admins");
    private readonly string _agent = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private HttpClient? _adminBrowser;
    private StoreMark? _mark;

    private HttpClient Admin => _adminBrowser!;

    private TenantCatalog Catalog => _host.Services.GetRequiredService<TenantCatalog>();

    public async Task InitializeAsync()
    {
        _mark = await StoreMark.TakeAsync(_host.Store, Audit(PortalTestHost.TenantId), Audit(Other), TenantAdministration.ChangesCollection(PortalTestHost.TenantId));
        _adminBrowser = await _host.SignInAsync(_admin);
    }

    public async Task DisposeAsync()
    {
        if (Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On)
        {
            await TenancyTestKit.PostAsync(Admin, "/admin/policy", "/admin/policy/heightened", ("mode", "off"), ("reason", "threat_over"));
        }

        var tenant = Catalog.Find(PortalTestHost.TenantId)!;
        if (!tenant.Recovery.ManagerApproval || !tenant.Recovery.CallBack || !tenant.Recovery.IdVerification || tenant.Recovery.RequireSecondAgent)
        {
            await TenancyTestKit.PostAsync(Admin, Page, "/admin/recovery/methods", ("managerApproval", "true"), ("callBack", "true"), ("idVerification", "true"));
        }

        if (tenant.ExecutiveTargets.Groups is not ["Executives"])
        {
            await TenancyTestKit.PostAsync(Admin, Page, "/admin/recovery/executives", ("groups", "Executives"));
        }
    }

    /// <summary>The receiver's count once the alarms of an earlier test's clean-up have arrived.</summary>
    private async Task<int> SettledAlarmCountAsync()
    {
        await fixture.WebhookAsync(Admin);
        await Task.Delay(500);
        return fixture.Received.Count;
    }

    [Fact]
    public async Task CallBackOffThenOn_EachSaved_AuditedBeforeAfter_TurningOnAlarmed_AndTheConsoleFollowsAtOnce()
    {
        var alarmsBefore = await SettledAlarmCountAsync();
        var caller = TestPeople.NewCaller(_host.Emulator.State);
        _host.Emulator.State.SetWorkPhone(caller, "+1 555 0100 171");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        // Off: the console no longer offers the call-back to a caller with no factor.
        var off = await SaveMethodsAsync(manager: true, callBack: false, idv: true);
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        var offPage = WebUtility.HtmlDecode(await off.Content.ReadAsStringAsync());
        Assert.Contains("Saved.", offPage, StringComparison.Ordinal);
        Assert.False(Catalog.Find(PortalTestHost.TenantId)!.Recovery.CallBack);
        Assert.DoesNotContain("action=\"/verification/callback\"", await agent.LookupAsync(caller), StringComparison.Ordinal);

        // On again: offered again, at once on this instance.
        var on = await SaveMethodsAsync(manager: true, callBack: true, idv: true);
        Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        Assert.True(Catalog.Find(PortalTestHost.TenantId)!.Recovery.CallBack);
        Assert.Contains("action=\"/verification/callback\"", await agent.LookupAsync(caller), StringComparison.Ordinal);

        // Both audited with the admin and the changed switch; the history keeps before and after.
        var audit = await AuditAsync(PortalTestHost.TenantId);
        var records = audit.Where(d => (string)d["action"]! == "admin.recovery.methods").ToList();
        Assert.Equal(2, records.Count);
        Assert.All(records, r =>
        {
            Assert.Equal("succeeded", (string)r["outcome"]!);
            Assert.Equal("changed:recovery.callBack", (string)r["reason"]!);
            Assert.Equal(Portal.Audit.PiiMask.Email(_admin), (string?)r["agent"]?["maskedLogin"]);
        });
        var diffs = (await _mark!.SinceAsync(TenantAdministration.ChangesCollection(PortalTestHost.TenantId))).Select(d => d.Data).ToList();
        Assert.Contains(diffs, d => IsChange(d, "recovery.callBack", "on", "off"));
        Assert.Contains(diffs, d => IsChange(d, "recovery.callBack", "off", "on"));

        // Only turning it on loosens recovery: one alarm, signed as every alarm, naming the switch.
        var alarms = await fixture.WaitForAsync(alarmsBefore + 1);
        await Task.Delay(300);
        var alarm = JsonNode.Parse(Assert.Single(fixture.Received.Skip(alarmsBefore)).Body)!;
        Assert.Equal("tenant.policy_weakened", (string)alarm["type"]!);
        Assert.Equal("recovery.callBack:on", (string)alarm["reason"]!);
        Assert.Equal(PortalTestHost.TenantId, (string)alarm["tenantId"]!);
        Assert.NotEmpty(alarms);
    }

    [Fact]
    public async Task NoRelay_EveryMethodRefusedInWords_WhatWasTickedKept_NothingSaved_AuditedDenied()
    {
        var adminB = await _host.SignInToAsync(Other, _admin);

        var refused = await TenancyTestKit.PostAsync(adminB, Page, "/admin/recovery/methods", ("callBack", "true"), ("managerApproval", "true"), ("requireSecondAgent", "true"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var page = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        Assert.Contains("The call-back needs the SMTP relay of the recovery notices, which your operator sets in configuration", page, StringComparison.Ordinal);
        Assert.Contains("Manager approval needs the SMTP relay of the recovery notices", page, StringComparison.Ordinal);
        Assert.Contains("the caller must be told after every recovery", page, StringComparison.Ordinal);
        Assert.Contains("data-state=\"missing\"", page, StringComparison.Ordinal);

        // What the admin ticked comes back ticked; nothing was saved.
        Assert.Matches("id=\"r-callback\"[^>]*checked", page);
        Assert.Matches("id=\"r-manager\"[^>]*checked", page);
        Assert.Matches("id=\"r-second\"[^>]*checked", page);
        Assert.DoesNotMatch("id=\"r-idv\"[^>]*checked", page);
        var stored = Catalog.PolicyOf(Other)!.Recovery!;
        Assert.False(stored.CallBack || stored.ManagerApproval || stored.RequireSecondAgent);
        var denied = Assert.Single(await AuditAsync(Other), d => (string)d["action"]! == "admin.recovery.methods");
        Assert.Equal(("denied", "invalid"), ((string)denied["outcome"]!, (string)denied["reason"]!));

        // The page says the relay is configuration only, naming the setting.
        Assert.Contains("Portal:Tenants:1:Recovery:Notices:Smtp", page, StringComparison.Ordinal);
        Assert.Contains("never in the console", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeightenedModeOn_CallBackOnAndSecondAgentOffRefusedInWords_ManagerApprovalOnStillSaved()
    {
        await SaveMethodsAsync(manager: false, callBack: false, idv: true, second: true);
        await TenancyTestKit.PostAsync(Admin, "/admin/policy", "/admin/policy/heightened", ("mode", "on"), ("reason", "active_attack"));

        var callBack = await SaveMethodsAsync(manager: false, callBack: true, idv: true, second: true);
        var secondOff = await SaveMethodsAsync(manager: false, callBack: false, idv: true, second: false);

        foreach (var refused in new[] { callBack, secondOff })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            var page = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
            Assert.Contains("Heightened-threat mode is on: it refuses the call-back and asks for a second agent on every action.", page, StringComparison.Ordinal);
            Assert.Contains("Switch heightened-threat mode off first", page, StringComparison.Ordinal);
        }

        Assert.Matches("id=\"r-callback\"[^>]*checked", WebUtility.HtmlDecode(await callBack.Content.ReadAsStringAsync()));
        var stored = Catalog.PolicyOf(PortalTestHost.TenantId)!.Recovery!;
        Assert.False(stored.CallBack);
        Assert.True(stored.RequireSecondAgent);
        Assert.Equal(2, (await AuditAsync(PortalTestHost.TenantId)).Count(d => (string)d["action"]! == "admin.recovery.methods" && (string)d["outcome"]! == "denied" && (string)d["reason"]! == "heightened_mode_on"));

        // Manager approval is above the mode's floor (a push with number matching): it can be turned on during an attack.
        Assert.Equal(HttpStatusCode.OK, (await SaveMethodsAsync(manager: true, callBack: false, idv: true, second: true)).StatusCode);
        Assert.True(Catalog.Find(PortalTestHost.TenantId)!.Recovery.ManagerApproval);
    }

    [Fact]
    public async Task ExecutiveGroups_Saved_AuditedBeforeAfter_RemovalAlarmed_ServedAtOnce()
    {
        var alarmsBefore = await SettledAlarmCountAsync();

        var added = await TenancyTestKit.PostAsync(Admin, Page, "/admin/recovery/executives", ("groups", "Executives\r\n  Board of Directors  \r\n\r\n"));
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal(["Executives", "Board of Directors"], Catalog.Find(PortalTestHost.TenantId)!.ExecutiveTargets.Groups);

        var removed = await TenancyTestKit.PostAsync(Admin, Page, "/admin/recovery/executives", ("groups", "Executives"));
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(["Executives"], Catalog.Find(PortalTestHost.TenantId)!.ExecutiveTargets.Groups);

        var records = (await AuditAsync(PortalTestHost.TenantId)).Where(d => (string)d["action"]! == "admin.executive_groups").ToList();
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(("succeeded", "changed:executiveTargets.groups"), ((string)r["outcome"]!, (string)r["reason"]!)));
        var diffs = (await _mark!.SinceAsync(TenantAdministration.ChangesCollection(PortalTestHost.TenantId))).Select(d => d.Data).ToList();
        Assert.Contains(diffs, d => IsChange(d, "executiveTargets.groups", "Executives", "Executives, Board of Directors"));
        Assert.Contains(diffs, d => IsChange(d, "executiveTargets.groups", "Executives, Board of Directors", "Executives"));

        // Adding a group tightens: no alarm. Removing one leaves its members with one method: alarmed.
        await fixture.WaitForAsync(alarmsBefore + 1);
        await Task.Delay(300);
        var alarm = JsonNode.Parse(Assert.Single(fixture.Received.Skip(alarmsBefore)).Body)!;
        Assert.Equal(("tenant.policy_weakened", "executiveTargets.groups:removed"), ((string)alarm["type"]!, (string)alarm["reason"]!));
    }

    [Theory]
    [InlineData("twice", "Executive groups names 'CFO Office' more than once")]
    [InlineData("long", "Executive groups: a group name must be 1-256 printable characters.")]
    [InlineData("control", "Executive groups: a group name must be 1-256 printable characters.")]
    public async Task ExecutiveGroups_Refused_InWords_WhatWasTypedKept_NothingSaved(string kind, string words)
    {
        var typed = kind switch
        {
            "twice" => "Executives\nCFO Office\ncfo office",
            "long" => "Executives\n" + new string('X', 257),
            _ => "Executives\nBoard\u0007",
        };
        var refused = await TenancyTestKit.PostAsync(Admin, Page, "/admin/recovery/executives", ("groups", typed));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var page = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        Assert.Contains(words, page, StringComparison.Ordinal);
        Assert.Contains(">" + typed + "</textarea>", page, StringComparison.Ordinal);
        Assert.Equal(["Executives"], Catalog.Find(PortalTestHost.TenantId)!.ExecutiveTargets.Groups);
        var denied = Assert.Single(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "admin.executive_groups");
        Assert.Equal(("denied", "invalid"), ((string)denied["outcome"]!, (string)denied["reason"]!));
    }

    [Fact]
    public async Task ExecutiveGroups_MoreThanFifty_Refused()
    {
        var typed = string.Join("\n", Enumerable.Range(1, TenantPolicyRules.MaxExecutiveGroups + 1).Select(i => "Group " + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var refused = await TenancyTestKit.PostAsync(Admin, Page, "/admin/recovery/executives", ("groups", typed));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("Executive groups may hold at most 50 groups.", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(["Executives"], Catalog.Find(PortalTestHost.TenantId)!.ExecutiveTargets.Groups);
    }

    [Fact]
    public async Task AdminOfTenantB_ChangesOnlyTenantB_WhateverTheFormSays()
    {
        var adminB = await _host.SignInToAsync(Other, _admin);
        var before = Catalog.PolicyOf(PortalTestHost.TenantId)!;

        var methods = await TenancyTestKit.PostAsync(adminB, Page, "/admin/recovery/methods", ("requireSecondAgent", "true"), ("tenantId", PortalTestHost.TenantId));
        var groups = await TenancyTestKit.PostAsync(adminB, Page, "/admin/recovery/executives", ("groups", "Only in B"), ("tenantId", PortalTestHost.TenantId));

        Assert.Equal(HttpStatusCode.OK, methods.StatusCode);
        Assert.Equal(HttpStatusCode.OK, groups.StatusCode);
        Assert.True(Catalog.Find(Other)!.Recovery.RequireSecondAgent);
        Assert.Equal(["Only in B"], Catalog.Find(Other)!.ExecutiveTargets.Groups);
        var a = Catalog.Find(PortalTestHost.TenantId)!;
        Assert.Equal(before.Recovery!.RequireSecondAgent, a.Recovery.RequireSecondAgent);
        Assert.Equal(["Executives"], a.ExecutiveTargets.Groups);
        Assert.Contains(await AuditAsync(Other), d => (string)d["action"]! == "admin.executive_groups");
        Assert.DoesNotContain(await AuditAsync(PortalTestHost.TenantId), d => ((string)d["action"]!).StartsWith("admin.", StringComparison.Ordinal));

        // Tenant A's page is the admin's own tenant's, whatever the query says.
        var pageA = WebUtility.HtmlDecode(await (await Admin.GetAsync(Page + "?tenantId=" + Other)).Content.ReadAsStringAsync());
        Assert.DoesNotContain("Only in B", pageA, StringComparison.Ordinal);

        await TenancyTestKit.PostAsync(adminB, Page, "/admin/recovery/methods");
        await TenancyTestKit.PostAsync(adminB, Page, "/admin/recovery/executives", ("groups", ""));
    }

    [Fact]
    public async Task NotTheTenantAdmin_Refused_NothingChanges()
    {
        var agent = await _host.SignInAsync(_agent);
        var token = PortalTestHost.FormToken(await (await agent.GetAsync("/console")).Content.ReadAsStringAsync());

        var page = await agent.GetAsync(Page);
        var post = await PortalTestHost.PostFormAsync(agent, "/admin/recovery/methods", token);
        var groups = await PortalTestHost.PostFormAsync(agent, "/admin/recovery/executives", token, ("groups", ""));

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, groups.StatusCode);
        Assert.True(Catalog.Find(PortalTestHost.TenantId)!.Recovery.CallBack);
        Assert.Equal(["Executives"], Catalog.Find(PortalTestHost.TenantId)!.ExecutiveTargets.Groups);
        Assert.Contains(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "access.denied" && (string)d["reason"]! == "missing:admin.settings");
    }

    private Task<HttpResponseMessage> SaveMethodsAsync(bool manager, bool callBack, bool idv, bool second = false)
    {
        var fields = new List<(string, string)>();
        if (manager)
        {
            fields.Add(("managerApproval", "true"));
        }

        if (callBack)
        {
            fields.Add(("callBack", "true"));
        }

        if (idv)
        {
            fields.Add(("idVerification", "true"));
        }

        if (second)
        {
            fields.Add(("requireSecondAgent", "true"));
        }

        return TenancyTestKit.PostAsync(Admin, Page, "/admin/recovery/methods", [.. fields]);
    }

    private static bool IsChange(JsonObject diff, string field, string before, string after) =>
        diff["changes"]!.AsArray().Any(c => (string)c!["field"]! == field && (string?)c["before"] == before && (string?)c["after"] == after);

    private static CollectionPath Audit(string tenantId) => CollectionPath.ForTenant(tenantId, "audit");

    private async Task<List<JsonObject>> AuditAsync(string tenantId) => [.. (await _mark!.SinceAsync(Audit(tenantId))).Select(d => d.Data)];
}
