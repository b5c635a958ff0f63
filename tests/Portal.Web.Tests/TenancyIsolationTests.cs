using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// A2: two organisations on one portal. Whatever ids an agent of one puts in URLs or forms, they reach
/// nothing of the other: not its verifications, callers' references, approvals, audit or admin settings.
/// </summary>
public sealed class TenancyIsolationTests(TenancyIsolationTests.Fixture fixture) : IClassFixture<TenancyIsolationTests.Fixture>, IAsyncLifetime
{
    private const string Other = PortalTestHost.SecondTenantId;

    // One portal (two tenants) serves the class. A test that verifies a caller verifies one of its own, and each
    // reads only the audit records written while it ran, as on a portal of its own.
    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _alice = TestPeople.NewCaller(fixture.Portal.Emulator.State, push: true);
    private StoreMark? _mark;

    public async Task InitializeAsync() =>
        _mark = await StoreMark.TakeAsync(_host.Store, Audit(PortalTestHost.TenantId), Audit(Other));

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Verification_OfTenantA_CannotBeUsedByAnAgentOfTenantB()
    {
        var agentA = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var verificationA = ConsoleDriver.VerificationId(await agentA.VerifyByPushAsync(_alice));
        var agentB = new ConsoleDriver(_host, await _host.SignInToAsync(Other, TenancyTestKit.Tier3));

        var act = await agentB.ActAsync("password-reset", verificationA, ("kind", "OneTimeLink"));
        var view = await agentB.Browser.GetAsync("/verification/session/" + verificationA);

        Assert.Equal(HttpStatusCode.Forbidden, act.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, view.StatusCode);
        Assert.Contains("data-code=\"no_verification\"", await view.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_alice)!.PasswordResets);
        Assert.Contains(await AuditAsync(Other), d => (string)d["action"]! == "action.password_reset" && (string)d["reason"]! == "no_verification");
        Assert.Equal(HttpStatusCode.OK, (await agentA.ActAsync("password-reset", verificationA, ("kind", "OneTimeLink"))).StatusCode);
    }

    [Fact]
    public async Task CallerReference_FromTenantA_RefusedForTenantB_NoPushSent()
    {
        var agentA = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var pageA = await agentA.LookupAsync(_alice);
        var agentB = new ConsoleDriver(_host, await _host.SignInToAsync(Other, TenancyTestKit.Tier3));
        var tokenB = PortalTestHost.FormToken(await agentB.GetPageAsync("/console"));

        var push = await PortalTestHost.PostFormAsync(agentB.Browser, "/verification/push", tokenB,
            ("callerRef", PortalTestHost.HiddenValue(pageA, "callerRef")), ("factorId", PortalTestHost.HiddenValue(pageA, "factorId")));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, push.StatusCode);
        Assert.Contains("data-code=\"stale_form\"", await push.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_host.Emulator.State.PendingPushes(_alice));
    }

    [Fact]
    public async Task Audit_OfTenantA_NotShownToTenantB()
    {
        var agentA = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        await agentA.LookupAsync(TenancyTestKit.Bob);
        var auditorA = await _host.SignInAsync(TenancyTestKit.Auditor);
        var auditorB = await _host.SignInToAsync(Other, TenancyTestKit.Auditor);

        var pageA = await (await auditorA.GetAsync("/audit")).Content.ReadAsStringAsync();
        var pageB = await auditorB.GetAsync("/audit?tenantId=" + PortalTestHost.TenantId + "&tenant=" + PortalTestHost.TenantId);
        var textB = await pageB.Content.ReadAsStringAsync();

        // The masked caller of tenant A's record is what an auditor of A sees, and what B must not.
        var maskedCaller = System.Net.WebUtility.HtmlEncode("b***@d***.example");
        Assert.Contains(maskedCaller, pageA, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, pageB.StatusCode);
        Assert.DoesNotContain(maskedCaller, textB, StringComparison.Ordinal);
        Assert.DoesNotContain(await AuditAsync(Other), d => (string)d["action"]! == "caller.lookup");
    }

    [Fact]
    public async Task AdminOfTenantB_ChangesOnlyTenantB_WhateverTheFormSays()
    {
        var adminB = await _host.SignInToAsync(Other, TenancyTestKit.Admin);

        var changed = await TenancyTestKit.PostAsync(adminB, "/admin/tiers", "/admin/tiers/delete", ("name", "Tier 1"), ("tenantId", PortalTestHost.TenantId));
        var ip = await TenancyTestKit.PostAsync(adminB, "/admin/ip-allowlist", "/admin/ip-allowlist", ("networks", ""), ("tenantId", PortalTestHost.TenantId));

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ip.StatusCode);
        var catalog = _host.Factory.Services.GetRequiredService<ITenantCatalog>();
        Assert.DoesNotContain(catalog.Find(Other)!.EffectiveTiers(), t => t.Name == "Tier 1");
        Assert.Contains(catalog.Find(PortalTestHost.TenantId)!.EffectiveTiers(), t => t.Name == "Tier 1");
        Assert.Contains(await AuditAsync(Other), d => (string)d["action"]! == "admin.tiers.delete");
        Assert.DoesNotContain(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "admin.tiers.delete");
    }

    [Fact]
    public async Task Approval_OfTenantA_NotFoundForTenantB()
    {
        var adminA = await _host.SignInAsync(TenancyTestKit.Admin);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(adminA, "/admin/policy", "/admin/policy/privileged", ("groups", "Okta Administrators"))).StatusCode);
        var agentA = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var verification = ConsoleDriver.VerificationId(await agentA.VerifyByPushAsync(TenancyTestKit.Erin));
        Assert.Equal(HttpStatusCode.Forbidden, (await agentA.ActAsync("revoke-sessions", verification)).StatusCode);
        var agentB = await _host.SignInToAsync(Other, TenancyTestKit.Tier3);

        var queueB = await (await agentB.GetAsync("/approvals")).Content.ReadAsStringAsync();
        var approve = await PortalTestHost.PostFormAsync(agentB, $"/approvals/{verification}.sessions_revoke/approve", PortalTestHost.FormToken(queueB));

        Assert.DoesNotContain(verification, queueB, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, approve.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agentA.ActAsync("revoke-sessions", verification)).StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(TenancyTestKit.Erin)!.SessionsRevoked);
    }

    [Fact]
    public async Task AdminPages_AgentOfTenantA_GetsOwnTenantOnly()
    {
        var adminA = await _host.SignInAsync(TenancyTestKit.Admin);
        var adminB = await _host.SignInToAsync(Other, TenancyTestKit.Admin);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(adminB, "/admin/tiers", "/admin/tiers/create", ("name", "Only in B"))).StatusCode);

        var pageA = await (await adminA.GetAsync("/admin/tiers?tenantId=" + Other)).Content.ReadAsStringAsync();
        var pageB = await (await adminB.GetAsync("/admin/tiers")).Content.ReadAsStringAsync();

        Assert.Contains("Only in B", pageB, StringComparison.Ordinal);
        Assert.DoesNotContain("Only in B", pageA, StringComparison.Ordinal);
    }

    private static CollectionPath Audit(string tenantId) => CollectionPath.ForTenant(tenantId, "audit");

    /// <summary>The audit records of <paramref name="tenantId"/> written while this test ran.</summary>
    private async Task<List<JsonObject>> AuditAsync(string tenantId) => [.. (await _mark!.SinceAsync(Audit(tenantId))).Select(d => d.Data)];

    /// <summary>The class's portal, with the second tenant.</summary>
    public sealed class Fixture : PortalHostFixture
    {
        public Fixture() => Portal.WithSecondTenant = true;
    }
}
