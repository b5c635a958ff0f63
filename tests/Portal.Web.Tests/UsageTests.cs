using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>Usage metering end to end: a verified action is counted, shown with a server-rendered chart, and names no one.</summary>
public sealed class UsageTests : IAsyncLifetime
{
    private const string Alice = "alice.caller@demo.example";
    private const string Tier3 = "tier3.agent@demo.example";
    private const string Admin = "admin@demo.example";
    private const string Auditor = "auditor@demo.example";

    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Usage_AfterVerificationAndAction_CountedAndChartedWithoutScriptOrPii()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(Tier3));
        var session = await agent.VerifyByPushAsync(Alice);
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("password-reset", ConsoleDriver.VerificationId(session), ("kind", "OneTimeLink"), ("ticketRef", "INC-9"))).StatusCode);
        var again = await agent.VerifyByPushAsync(Alice);
        Assert.NotNull(again);

        var admin = new ConsoleDriver(_host, await _host.SignInAsync(Admin));
        var page = await admin.GetPageAsync("/usage");

        Assert.Contains("data-field=\"verifications\">2<", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"actions\">1<", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"unique-callers\">1<", page, StringComparison.Ordinal);
        Assert.Contains("<tr data-method=\"okta.push\">", page, StringComparison.Ordinal);
        Assert.Contains("<tr data-action=\"password_reset\">", page, StringComparison.Ordinal);
        Assert.Contains("<svg class=\"chart\"", page, StringComparison.Ordinal);
        var day = _host.Clock.GetUtcNow().UtcDateTime.Day;
        Assert.Contains($"<title>Day {day}: 2</title>", page, StringComparison.Ordinal);
        Assert.Contains("<title>okta.push: 2</title>", page, StringComparison.Ordinal);

        // CSP: no inline script or style on the page; every script is a file.
        Assert.DoesNotMatch(new Regex("<script(?![^>]*\\ssrc=)", RegexOptions.IgnoreCase), page);
        Assert.DoesNotContain(" style=", page, StringComparison.OrdinalIgnoreCase);

        var caller = _host.Emulator.State.FindCaller(Alice)!;
        await foreach (var name in Collections())
        {
            await foreach (var d in _host.Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(PortalTestHost.TenantId, name))))
            {
                var text = d.Key + d.Data.ToJsonString();
                Assert.DoesNotContain(caller.Id, text, StringComparison.Ordinal);
                Assert.DoesNotContain(caller.Login, text, StringComparison.OrdinalIgnoreCase);
                Assert.True(d.ExpireAt > _host.Clock.GetUtcNow().AddYears(3), "Usage is kept three years.");
            }
        }
    }

    [Fact]
    public async Task Usage_FailedAndRejectedVerifications_MeteredByMethodAndOutcome()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(Tier3));
        var wrong = await agent.VerifyByTotpAsync(await agent.LookupAsync("bob.caller@demo.example"), "000001");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
        var pending = await agent.StartPushAsync(await agent.LookupAsync(Alice));
        var push = Assert.Single(_host.Emulator.State.PendingPushes(Alice));
        _host.Emulator.State.DenyPush(push.TransactionId);
        Assert.Equal("Rejected", (await agent.PollAsync(pending)).State);

        var month = await _host.Factory.Services.GetRequiredService<Portal.Audit.IUsageReport>()
            .GetMonthAsync(PortalTestHost.TenantId, _host.Clock.GetUtcNow().Year, _host.Clock.GetUtcNow().Month);

        Assert.Equal(1, month.Verifications["okta.totp"]["failed"]);
        Assert.Equal(1, month.Verifications["okta.push"]["alarm"]);
        Assert.Equal(0, month.UniqueVerifiedCallers);
    }

    [Fact]
    public async Task Usage_EarlierMonthWithNothing_ShowsZeros()
    {
        var admin = new ConsoleDriver(_host, await _host.SignInAsync(Admin));

        var page = await admin.GetPageAsync("/usage?month=2020-01");

        Assert.Contains("January 2020", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"verifications\">0<", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_AgentWithoutUsageRead_Forbidden()
    {
        var auditor = await _host.SignInAsync(Auditor);

        var response = await auditor.GetAsync("/usage");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static async IAsyncEnumerable<string> Collections()
    {
        await Task.CompletedTask;
        yield return "usage";
        yield return "usageCallers";
    }
}
