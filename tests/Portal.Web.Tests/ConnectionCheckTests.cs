using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// "Test connection" in the tenant admin console, the check every instance runs after start-up, and the console
/// offering only what the tenant's IdP connection can do (docs/configuration.md, "Testing the connection").
/// </summary>
public sealed class ConnectionCheckTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task TestConnection_Admin_ResultsShownAndAudited_WithoutHostOrSecret_NonAdminRefused()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        var before = await (await admin.GetAsync("/admin/connection")).Content.ReadAsStringAsync();
        Assert.Contains("data-field=\"no-report\"", before, StringComparison.Ordinal);

        var tested = await TenancyTestKit.PostAsync(admin, "/admin/connection", "/admin/connection/test");

        Assert.Equal(HttpStatusCode.OK, tested.StatusCode);
        Assert.Equal("/admin/connection", tested.RequestMessage!.RequestUri!.AbsolutePath); // Post/Redirect/Get
        var page = await tested.Content.ReadAsStringAsync();
        Assert.Contains("<section class=\"card\" role=\"status\">", page, StringComparison.Ordinal);
        Assert.Contains("data-check=\"credentials\" data-state=\"Available\"", page, StringComparison.Ordinal);
        Assert.Contains("data-check=\"canonical_host\" data-state=\"Available\"", page, StringComparison.Ordinal);
        Assert.Contains("data-operation=\"ReadUsers\" data-state=\"Available\"", page, StringComparison.Ordinal);
        // An SSWS token's write rights are its admin's role: unknown, and said why.
        Assert.Contains("data-operation=\"ResetPassword\" data-state=\"Unknown\"", page, StringComparison.Ordinal);
        Assert.Contains("SSWS", page, StringComparison.Ordinal);
        // In words for the admin, and Unknown explained as not a fault (a new admin read the demo as half broken).
        Assert.Contains(">Reset passwords <span class=\"muted mono\">reset_password</span>", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"unknown-explained\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Z UTC", page, StringComparison.Ordinal);

        var record = Assert.Single(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "admin.connection_test");
        Assert.Equal("succeeded", (string)record["outcome"]!);
        var reason = (string)record["reason"]!;
        Assert.StartsWith("credentials=available; unavailable=none; unknown=", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_host.Emulator.BaseUrl.Host, record.ToJsonString(), StringComparison.Ordinal);

        // F5 on the report shows it again (not as news) and tests nothing again.
        var reloaded = await (await admin.GetAsync("/admin/connection")).Content.ReadAsStringAsync();
        Assert.Contains("data-check=\"credentials\" data-state=\"Available\"", reloaded, StringComparison.Ordinal);
        Assert.DoesNotContain("role=\"status\"", reloaded, StringComparison.Ordinal);
        Assert.Single(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "admin.connection_test");

        var tier3 = await _host.SignInAsync(TenancyTestKit.Tier3);
        var refused = await PortalTestHost.PostFormAsync(tier3, "/admin/connection/test", PortalTestHost.FormToken(await (await tier3.GetAsync("/console")).Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Single(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "admin.connection_test");
    }

    /// <summary>
    /// On Cloud Run the GET after the test's POST may reach another instance, whose last report is not the one just
    /// run: the page then says so and shows the summary the browser carried, never an older report as the new one.
    /// </summary>
    [Fact]
    public async Task TestConnection_ResultReadOnAnotherInstance_ShowsTheSummaryCarried_NotAnOlderReport()
    {
        var browser = _host.NewClient(new System.Net.CookieContainer());
        await _host.SignInAsync(TenancyTestKit.Admin, browser);
        var posted = await PortalTestHost.PostFormAsync(browser, "/admin/connection/test", PortalTestHost.FormToken(await (await browser.GetAsync("/admin/connection")).Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal("/admin/connection", posted.Headers.Location!.OriginalString);

        // This "instance" last ran a check an hour earlier (as another instance would have).
        var reports = _host.Factory.Services.GetRequiredService<TenantConnectionReports>();
        var mine = reports.Latest(PortalTestHost.TenantId)!;
        reports.Set(PortalTestHost.TenantId, mine with { CheckedAt = mine.CheckedAt.AddHours(-1) });
        var page = await (await browser.GetAsync("/admin/connection")).Content.ReadAsStringAsync();

        Assert.Contains("data-field=\"tested-elsewhere\"", page, StringComparison.Ordinal);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(TenantConnectionReports.Summary(mine)), page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-check=\"credentials\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_LastReportSaysTheCredentialIsRefused_NoActionOffered_EachSaysWhy()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var session = await agent.VerifyByPushAsync(TenancyTestKit.Alice);
        Assert.Contains("data-action=\"password_reset\" data-offered=\"true\"", await agent.GetPageAsync(session), StringComparison.Ordinal);

        // The report of a check made with a token Okta refuses (as after the token's administrator was deactivated).
        var tenant = _host.Factory.Services.GetRequiredService<ITenantCatalog>().Find(PortalTestHost.TenantId)!;
        var directory = _host.Factory.Services.GetRequiredService<Portal.Idp.ICallerDirectoryFactory>()
            .Create(new Portal.Idp.IdpConnection(tenant.Id, Portal.Idp.IdpKind.Okta, _host.Emulator.BaseUrl, "revoked-token"));
        var report = await ((Portal.Idp.IIdpCapabilityCheck)directory).CheckAsync();
        _host.Factory.Services.GetRequiredService<TenantConnectionReports>().Set(PortalTestHost.TenantId, report);

        var page = await agent.GetPageAsync(session);
        foreach (var action in new[] { "password_reset", "sessions_revoke", "account_unlock", "mfa_reset", "tap_issue" })
        {
            Assert.Contains($"data-action=\"{action}\" data-offered=\"false\"", page, StringComparison.Ordinal);
        }

        Assert.Contains("data-field=\"connection-unavailable\">Okta refused the portal", page, StringComparison.Ordinal);
        var console = await agent.GetPageAsync("/console");
        Assert.Contains("<li data-action=\"mfa_reset\">", console, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Console_ClassicEngineOrg_TacNotOffered_SaysWhy_OtherActionsStillOffered_TheRouteItselfUnchanged()
    {
        _host.Emulator.State.ClassicEngine = true;
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        var tested = await TenancyTestKit.PostAsync(admin, "/admin/connection", "/admin/connection/test");
        Assert.Contains("data-operation=\"IssueTemporaryAccess\" data-state=\"Unavailable\"", await tested.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var console = await agent.GetPageAsync("/console");
        Assert.Contains("<li data-action=\"tap_issue\"><strong>Issue temporary access code</strong> is not offered: Temporary access codes need Okta Identity Engine", console, StringComparison.Ordinal);
        Assert.DoesNotContain("<li data-action=\"password_reset\"", console, StringComparison.Ordinal);

        var session = await agent.VerifyByPushAsync(TenancyTestKit.Alice);
        var page = await agent.GetPageAsync(session);
        Assert.Contains("data-action=\"tap_issue\" data-offered=\"false\"", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"connection-unavailable\">Temporary access codes need Okta Identity Engine", page, StringComparison.Ordinal);
        Assert.Contains("data-action=\"password_reset\" data-offered=\"true\"", page, StringComparison.Ordinal);

        // The action route keeps its own checks and asks the IdP as before: Okta's 404 is explained, nothing issued.
        var listingsBefore = _host.Emulator.State.Requests.Count(r => r.PathAndQuery.EndsWith("/authenticators", StringComparison.Ordinal));
        var posted = await agent.ActAsync("temporary-access", ConsoleDriver.VerificationId(session));
        Assert.NotEqual(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal(listingsBefore + 1, _host.Emulator.State.Requests.Count(r => r.PathAndQuery.EndsWith("/authenticators", StringComparison.Ordinal)));
        Assert.Equal(0, _host.Emulator.State.FindCaller(TenancyTestKit.Alice)!.TemporaryAccessCodesIssued);
    }
}

/// <summary>The check after start-up: one log line per tenant, without holding start-up back.</summary>
public sealed class ConnectionCheckAtStartupTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new() { Settings = { ["Portal:Tenancy:ConnectionCheckAtStartup"] = "true" } };

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task AfterStartUp_OneInformationLinePerTenant_AndTheReportServesTheConsole()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? line = null;
        while (line is null && DateTime.UtcNow < deadline)
        {
            line = _host.LogLines.FirstOrDefault(l => l.Contains("Connection check of tenant demo-okta (Okta): credentials=available", StringComparison.Ordinal));
            await Task.Delay(100);
        }

        Assert.NotNull(line);
        Assert.Single(_host.LogLines, l => l.Contains("Connection check of tenant demo-okta", StringComparison.Ordinal));
        Assert.DoesNotContain(_host.Emulator.BaseUrl.Host, line, StringComparison.Ordinal);
        Assert.NotNull(_host.Factory.Services.GetRequiredService<TenantConnectionReports>().Latest(PortalTestHost.TenantId));
    }
}
