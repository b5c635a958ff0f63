using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// Heightened-threat mode (docs/tenancy.md): a tenant admin switches it on with a reason; while it is on, TOTP and the
/// Entra push are refused before anything reaches the caller, every action needs a second agent's approval and every
/// agent page says so; every switch is audited and alarmed; another tenant on the same portal is not touched.
/// </summary>
/// <remarks>
/// One portal (two tenants, a webhook receiver) serves the class. The mode is tenant-wide, so each test switches it on
/// itself and the test's clean-up switches it off again; xUnit runs the tests of a class one after another. Each test
/// has its own callers and agents and reads only the audit records written since it began.
/// </remarks>
public sealed partial class HeightenedModeTests(HeightenedModeTests.Fixture fixture) : IClassFixture<HeightenedModeTests.Fixture>, IAsyncLifetime
{
    private const string Other = PortalTestHost.SecondTenantId;

    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _admin = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Admins");
    private readonly string _agent = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private readonly string _colleague = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private readonly string _caller = TestPeople.NewCaller(fixture.Portal.Emulator.State, push: true);
    private HttpClient? _adminBrowser;
    private StoreMark? _mark;

    public async Task InitializeAsync()
    {
        _mark = await StoreMark.TakeAsync(_host.Store, Audit(PortalTestHost.TenantId), Audit(Other), TenantAdministration.ChangesCollection(PortalTestHost.TenantId));
        _adminBrowser = await _host.SignInAsync(_admin);
    }

    public async Task DisposeAsync()
    {
        // The next test starts with the mode off, whatever this one left.
        if (Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On)
        {
            await SwitchAsync("off", "threat_over");
        }
    }

    [Fact]
    public async Task On_TotpRefusedBeforeTheIdpAndAudited_PushVerifies_ActionWaitsForASecondAgent_BannerOnEveryPage()
    {
        var switched = await SwitchAsync("on", "active_attack");
        Assert.Contains("data-state=\"on\"", switched, StringComparison.Ordinal);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        // The console offers no code, and says why; every agent page carries the banner.
        var page = await agent.LookupAsync(_caller);
        Assert.DoesNotContain("action=\"/verification/totp\"", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"heightened-withheld\"", page, StringComparison.Ordinal);
        Assert.Contains("action=\"/verification/push\"", page, StringComparison.Ordinal);
        foreach (var path in new[] { "/console", "/approvals" })
        {
            var shown = await agent.GetPageAsync(path);
            Assert.Contains("data-field=\"heightened-banner\"", shown, StringComparison.Ordinal);
            Assert.Contains("Heightened-threat mode is on", shown, StringComparison.Ordinal);
            Assert.Contains("every action needs a second agent&#x27;s approval", shown, StringComparison.Ordinal);
            Assert.Contains("Our help desk or a peer is being targeted now", shown, StringComparison.Ordinal);
        }

        // A crafted TOTP start (the form the console no longer offers) is refused before the IdP sees the code.
        var factorId = _host.Emulator.State.FindCaller(_caller)!.Factors.First(f => f.FactorType == "token:software:totp").Id;
        var totp = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/totp", PortalTestHost.FormToken(page),
            ("callerRef", PortalTestHost.HiddenValue(ConsoleDriver.FormFor(page, "/verification/push"), "callerRef")), ("factorId", factorId), ("code", _host.Emulator.State.CurrentTotp(_caller)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, totp.StatusCode);
        Assert.Contains("data-code=\"heightened_mode\"", await totp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_host.Emulator.State.Requests, r => r.PathAndQuery.Contains(factorId, StringComparison.Ordinal) && r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal));
        var refused = Assert.Single(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "verification.totp");
        Assert.Equal("denied", (string)refused["outcome"]!);
        Assert.Equal("heightened_mode", (string)refused["reason"]!);

        // A push with number matching still verifies; the action then waits for a colleague, as for a privileged target.
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(_caller));
        var first = await agent.ActAsync("revoke-sessions", id);
        Assert.Equal(HttpStatusCode.Forbidden, first.StatusCode);
        Assert.Contains("Heightened-threat mode is on in your organisation", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_caller)!.SessionsRevoked);
        Assert.Contains(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "approval.request" && (string)d["reason"]! == "sessions_revoke heightened_mode");

        var colleague = await _host.SignInAsync(_colleague);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(colleague, "/approvals", $"/approvals/{id}.sessions_revoke/approve")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", id)).StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(_caller)!.SessionsRevoked);
    }

    [Fact]
    public async Task On_CallBackNotOffered_ACraftedStartRefusedBeforeAnythingIsShown()
    {
        _host.Emulator.State.SetWorkPhone(_caller, "+1 555 0100 190");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var before = await agent.StartCallBackAsync(await agent.LookupAsync(_caller));
        Assert.Equal(HttpStatusCode.SeeOther, before.StatusCode);
        var running = before.Headers.Location!.OriginalString;
        var code = ConsoleDriver.CallBackCode(await agent.GetPageAsync(running))!;

        await SwitchAsync("on", "active_attack");

        // A call-back started before the switch is refused at its confirmation: the right code verifies nothing.
        var confirmed = await agent.AnswerCallBackAsync(running, code);
        Assert.Equal(running, confirmed.Headers.Location!.OriginalString);
        Assert.Contains("heightened-threat mode was switched on during the call-back", await agent.GetPageAsync(running), StringComparison.Ordinal);
        Assert.Contains(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "verification.callback.result" && (string)d["reason"]! == "heightened_mode");

        var page = await agent.LookupAsync(_caller);
        Assert.DoesNotContain("action=\"/verification/callback\"", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"callback-refused\"", page, StringComparison.Ordinal);

        var crafted = await agent.PostStartAsync(page, "/verification/push", "/verification/callback", "callback");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, crafted.StatusCode);
        Assert.Contains("data-code=\"heightened_mode\"", await crafted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var refused = Assert.Single(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "verification.callback.start" && (string)d["outcome"]! == "denied");
        Assert.Equal("heightened_mode", (string)refused["reason"]!);
    }

    [Fact]
    public async Task Off_BackToNormal_TotpVerifies_ActionWithoutApproval_NoBanner()
    {
        await SwitchAsync("on", "exercise");
        var switchedOff = await SwitchAsync("off", "threat_over");
        Assert.Contains("data-state=\"off\"", switchedOff, StringComparison.Ordinal);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        var page = await agent.LookupAsync(_caller);
        Assert.DoesNotContain("data-field=\"heightened-banner\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-field=\"heightened-withheld\"", page, StringComparison.Ordinal);
        var verified = await agent.VerifyByTotpAsync(page, _host.Emulator.State.CurrentTotp(_caller));
        Assert.Equal(HttpStatusCode.Redirect, verified.StatusCode);
        var id = ConsoleDriver.VerificationId(verified.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", id)).StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(_caller)!.SessionsRevoked);
        Assert.DoesNotContain(await AuditAsync(PortalTestHost.TenantId), d => (string)d["action"]! == "approval.request");
    }

    [Fact]
    public async Task EverySwitch_AuditedWithWhoOnOffAndReason_AndSentToTheWebhookSigned()
    {
        var key = await fixture.WebhookAsync(_adminBrowser!);
        var before = fixture.Received.Count;

        await SwitchAsync("on", "threat_intelligence");
        await SwitchAsync("off", "threat_over");

        var audit = await AuditAsync(PortalTestHost.TenantId);
        var on = Assert.Single(audit, d => (string)d["action"]! == "admin.heightened_mode.on");
        var off = Assert.Single(audit, d => (string)d["action"]! == "admin.heightened_mode.off");
        foreach (var record in new[] { on, off })
        {
            Assert.Equal("succeeded", (string)record["outcome"]!);
            Assert.Equal(Portal.Audit.PiiMask.Email(_admin), (string?)record["agent"]?["maskedLogin"]);
            Assert.Contains("heightenedMode.on", (string)record["reason"]!, StringComparison.Ordinal);
        }

        var diffs = (await _mark!.SinceAsync(TenantAdministration.ChangesCollection(PortalTestHost.TenantId))).Select(d => d.Data).ToList();
        var onDiff = Assert.Single(diffs, d => (string)d["auditRecordId"]! == (string)on["id"]!);
        Assert.Contains(onDiff["changes"]!.AsArray(), c => (string)c!["field"]! == "heightenedMode.on" && (string)c["before"]! == "off" && (string)c["after"]! == "on");
        Assert.Contains(onDiff["changes"]!.AsArray(), c => (string)c!["field"]! == "heightenedMode.reason" && (string)c["after"]! == "threat_intelligence");
        var offDiff = Assert.Single(diffs, d => (string)d["auditRecordId"]! == (string)off["id"]!);
        Assert.Contains(offDiff["changes"]!.AsArray(), c => (string)c!["field"]! == "heightenedMode.on" && (string)c["before"]! == "on" && (string)c["after"]! == "off");

        var alarms = await fixture.WaitForAsync(before + 2);
        Assert.Equal(new[] { "on threat_intelligence", "off threat_over" }, alarms.Skip(before).Select(a => (string)JsonNode.Parse(a.Body)!["reason"]!));
        foreach (var (body, signature) in alarms.Skip(before))
        {
            var json = JsonNode.Parse(body)!;
            Assert.Equal("tenant.heightened_mode", (string)json["type"]!);
            Assert.Equal(PortalTestHost.TenantId, (string)json["tenantId"]!);
            var t = long.Parse(signature.Split(',')[0]["t=".Length..], System.Globalization.CultureInfo.InvariantCulture);

            // The recipe a receiver follows (docs/tenancy.md), computed here, not by the portal's own function.
            var expected = Convert.ToHexString(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
            Assert.Equal($"t={t},v1={expected}", signature);
        }
    }

    [Fact]
    public async Task Switch_WithoutAKnownReason_OrToWhatItIs_Refused_NothingChanges()
    {
        var page = await (await _adminBrowser!.GetAsync("/admin/policy")).Content.ReadAsStringAsync();
        var noReason = await PortalTestHost.PostFormAsync(_adminBrowser, "/admin/policy/heightened", PortalTestHost.FormToken(page), ("mode", "on"), ("reason", "because"));
        var alreadyOff = await PortalTestHost.PostFormAsync(_adminBrowser, "/admin/policy/heightened", PortalTestHost.FormToken(page), ("mode", "off"), ("reason", "threat_over"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, noReason.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, alreadyOff.StatusCode);
        Assert.Contains("Heightened-threat mode is already off.", await alreadyOff.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(Catalog.PolicyOf(PortalTestHost.TenantId)!.HeightenedMode.On);
        var audit = await AuditAsync(PortalTestHost.TenantId);
        Assert.Contains(audit, d => (string)d["action"]! == "admin.heightened_mode.on" && (string)d["outcome"]! == "denied" && (string)d["reason"]! == "invalid");
        Assert.Contains(audit, d => (string)d["action"]! == "admin.heightened_mode.off" && (string)d["outcome"]! == "denied" && (string)d["reason"]! == "heightened_mode_unchanged");
    }

    [Fact]
    public async Task OnInOneTenant_TheOtherTenantUnaffected_TotpVerifies_ActionWithoutApproval_NoBanner()
    {
        await SwitchAsync("on", "active_attack");
        var agentB = new ConsoleDriver(_host, await _host.SignInToAsync(Other, _agent));

        var page = await agentB.LookupAsync(_caller);
        Assert.DoesNotContain("data-field=\"heightened-banner\"", page, StringComparison.Ordinal);
        Assert.Contains("action=\"/verification/totp\"", page, StringComparison.Ordinal);
        var verified = await agentB.VerifyByTotpAsync(page, _host.Emulator.State.CurrentTotp(_caller));
        Assert.Equal(HttpStatusCode.Redirect, verified.StatusCode);
        var id = ConsoleDriver.VerificationId(verified.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.OK, (await agentB.ActAsync("revoke-sessions", id)).StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(_caller)!.SessionsRevoked);
        Assert.False(Catalog.PolicyOf(Other)!.HeightenedMode.On);
        Assert.DoesNotContain(await AuditAsync(Other), d => (string)d["action"]! == "approval.request" || (string?)d["reason"] == "heightened_mode");
        Assert.Contains("data-field=\"heightened-banner\"", await new ConsoleDriver(_host, await _host.SignInAsync(_agent)).GetPageAsync("/console"), StringComparison.Ordinal);
    }

    private TenantCatalog Catalog => _host.Services.GetRequiredService<TenantCatalog>();

    /// <summary>Switches the mode from the policy page as the admin's browser does; returns the page after the change.</summary>
    private async Task<string> SwitchAsync(string mode, string reason)
    {
        var saved = await TenancyTestKit.PostAsync(_adminBrowser!, "/admin/policy", "/admin/policy/heightened", ("mode", mode), ("reason", reason));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        return await saved.Content.ReadAsStringAsync();
    }

    private static CollectionPath Audit(string tenantId) => CollectionPath.ForTenant(tenantId, "audit");

    private async Task<List<JsonObject>> AuditAsync(string tenantId) => [.. (await _mark!.SinceAsync(Audit(tenantId))).Select(d => d.Data)];

    /// <summary>The class's portal: two tenants, and a webhook receiver on this machine for the first.</summary>
    public sealed partial class Fixture : PortalHostFixture, IAsyncLifetime
    {
        private readonly ConcurrentQueue<(string Body, string Signature)> _received = new();
        private WebApplication? _receiver;
        private string? _key;

        public IReadOnlyCollection<(string Body, string Signature)> Received => _received;

        public new async Task InitializeAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            _receiver = builder.Build();
            _receiver.MapPost("/hook", async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
                _received.Enqueue((await reader.ReadToEndAsync(), context.Request.Headers[AlertWebhookNotifier.SignatureHeader].ToString()));
                return Results.Ok();
            });
            await _receiver.StartAsync();

            // The receiver is on this machine: Development lets the webhook reach loopback (refused everywhere else).
            Portal.WithSecondTenant = true;
            Portal.Settings["Portal:Alerts:AllowLoopbackDestinations"] = "true";
            await base.InitializeAsync();
        }

        public new async Task DisposeAsync()
        {
            await base.DisposeAsync();
            if (_receiver is not null)
            {
                await _receiver.DisposeAsync();
            }
        }

        /// <summary>Points the first tenant's webhook at the receiver with a new signing key, once; returns the key.</summary>
        public async Task<string> WebhookAsync(HttpClient admin)
        {
            if (_key is not null)
            {
                return _key;
            }

            var keyPage = await (await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/webhook/key")).Content.ReadAsStringAsync();
            var key = WebUtility.HtmlDecode(KeyPattern().Match(keyPage).Groups[1].Value);
            Assert.False(string.IsNullOrEmpty(key));
            var url = _receiver!.Urls.First().TrimEnd('/') + "/hook";
            Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/webhook", ("url", url))).StatusCode);
            return _key = key;
        }

        /// <summary>Waits until the receiver holds <paramref name="count"/> alarms; fails after ten seconds.</summary>
        public async Task<IReadOnlyList<(string Body, string Signature)>> WaitForAsync(int count)
        {
            for (var i = 0; i < 200 && _received.Count < count; i++)
            {
                await Task.Delay(50);
            }

            Assert.True(_received.Count >= count, $"Expected {count} alarms at the receiver, got {_received.Count}.");
            return [.. _received];
        }

        [GeneratedRegex("data-field=\"signing-key\">([^<]+)<")]
        private static partial Regex KeyPattern();
    }
}
