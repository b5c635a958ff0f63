using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Portal.Idp;
using Portal.IdpEmulator;
using Portal.Storage;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Recovery;

namespace Portal.Web.Tests;

/// <summary>
/// The portal with the demo Okta org's relay to the emulator's mail sink, a webhook receiver of the test's own (signing
/// key from an environment variable) and a policy that accepts <c>recovery.manager</c> for a sign-out too (a temporary access code accepts it by default).
/// Shared by <see cref="RecoveryNoticeTests"/>: each test has its own caller and agent.
/// </summary>
public sealed class RecoveryNoticeFixture : IAsyncLifetime
{
    public RecoveryNoticeFixture()
    {
        var variable = "PORTAL_TEST_RECOVERY_HOOK_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, HookKey);
        Portal.Settings["Portal:Alerts:AllowLoopbackDestinations"] = "true";
        Portal.Settings["Portal:Tenants:0:AlertWebhook:SigningSecretSecret"] = "env:" + variable;
        Portal.Settings["Portal:Tenants:0:ActionMethods:sessions_revoke:0"] = VerificationMethods.OktaPush;
        Portal.Settings["Portal:Tenants:0:ActionMethods:sessions_revoke:1"] = VerificationMethods.RecoveryManager;
    }

    public PortalTestHost Portal { get; } = new() { WithSecondTenant = true };

    public string HookKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public ConcurrentQueue<(string Body, string Signature)> Received { get; } = new();

    private WebApplication? _receiver;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            Received.Enqueue((await reader.ReadToEndAsync(), context.Request.Headers[AlertWebhookNotifier.SignatureHeader].ToString()));
            return Results.Ok();
        });
        await _receiver.StartAsync();
        Portal.Settings["Portal:Tenants:0:AlertWebhook:Url"] = _receiver.Urls.First().TrimEnd('/') + "/hook";
        await Portal.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Portal.DisposeAsync();
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }
    }
}

/// <summary>
/// Recovery notices (docs/recovery.md, "Recovery notices", V10), over HTTP: the notice after an action through a recovery
/// method, to the address the IdP has on file, without the secret; none after a push; a relay that is down costs the
/// notice, never the action; the "This wasn't me" link removes the factors, signs the caller out, raises the alarm and
/// the webhook, once. Each test verifies its own caller by the approval of a manager of its own, from the console.
/// </summary>
public sealed partial class RecoveryNoticeTests(RecoveryNoticeFixture fixture) : IClassFixture<RecoveryNoticeFixture>
{
    private PortalTestHost Host => fixture.Portal;

    private EmulatorState Emulator => Host.Emulator.State;

    [Fact]
    public async Task ThroughRecovery_ExactlyOneNotice_ToTheAddressOnFile_WithoutTheSecret_AgentTold_Audited()
    {
        var (agent, caller) = await NewAgentAndCallerAsync();
        var verification = await RecoveryVerificationAsync(agent, caller.Login);

        var result = await agent.ActAsync("temporary-access", verification);

        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        var page = await result.Content.ReadAsStringAsync();
        var secret = PortalTestHost.SecretOn(page);
        Assert.Contains("data-notice=\"sent\"", page, StringComparison.Ordinal);
        var mail = Assert.Single(Emulator.Mailbox.To(caller.Email));
        Assert.Equal([caller.Email], mail.To);
        Assert.Equal("notices@demo.example", mail.From);
        Assert.Contains("Demo Org (Okta)", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("a temporary access code to sign in to your account was issued", mail.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, mail.TextBody, StringComparison.Ordinal);
        Assert.Matches(LinkPattern(), mail.TextBody);

        var records = await TenancyTestKit.AuditAsync(Host);
        var notice = Assert.Single(records, r => (string)r["action"]! == RecoveryNotices.NoticeAction && r.ToJsonString().Contains(CallerHash(caller), StringComparison.Ordinal));
        Assert.Equal("succeeded", (string)notice["outcome"]!);
        Assert.Equal("tap_issue", (string)notice["reason"]!);
        Assert.DoesNotContain(caller.Email, notice.ToJsonString(), StringComparison.OrdinalIgnoreCase);

        // The link opens a page naming the organisation only.
        var open = await Anonymous().GetAsync(new Uri(new Uri(LinkPattern().Match(mail.TextBody).Value).PathAndQuery, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var linkPage = await open.Content.ReadAsStringAsync();
        Assert.Contains("Demo Org (Okta)", linkPage, StringComparison.Ordinal);
        Assert.DoesNotContain(caller.Email, linkPage, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(caller.FirstName, linkPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThroughAPush_NoNotice()
    {
        var (agent, caller) = await NewAgentAndCallerAsync();
        var verification = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller.Login));

        var result = await agent.ActAsync("temporary-access", verification);

        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.DoesNotContain("data-field=\"recovery-notice\"", await result.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(Emulator.Mailbox.To(caller.Email));
        Assert.DoesNotContain(await TenancyTestKit.AuditAsync(Host), r => (string)r["action"]! == RecoveryNotices.NoticeAction && r.ToJsonString().Contains(CallerHash(caller), StringComparison.Ordinal));
    }

    [Fact]
    public async Task RelayDown_TheActionStillDone_TheAgentTold_TheNoticeAuditedAsFailed()
    {
        var (agent, caller) = await NewAgentAndCallerAsync();
        var verification = await RecoveryVerificationAsync(agent, caller.Login);
        var revokedBefore = caller.SessionsRevoked;

        Emulator.Mailbox.Refusing = true;
        HttpResponseMessage result;
        try
        {
            result = await agent.ActAsync("revoke-sessions", verification);
        }
        finally
        {
            Emulator.Mailbox.Refusing = false;
        }

        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        var page = await result.Content.ReadAsStringAsync();
        Assert.Contains("data-outcome=\"succeeded\"", page, StringComparison.Ordinal);
        Assert.Contains("data-notice=\"failed\"", page, StringComparison.Ordinal);
        Assert.Contains(RecoveryNoticeResult.NotSentMessage, System.Net.WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Equal(revokedBefore + 1, caller.SessionsRevoked);
        Assert.Empty(Emulator.Mailbox.To(caller.Email));
        var records = await TenancyTestKit.AuditAsync(Host);
        var notice = Assert.Single(records, r => (string)r["action"]! == RecoveryNotices.NoticeAction && r.ToJsonString().Contains(CallerHash(caller), StringComparison.Ordinal));
        Assert.Equal("failed", (string)notice["outcome"]!);
        Assert.StartsWith("relay_", (string)notice["reason"]!, StringComparison.Ordinal);
        Assert.Contains(records, r => (string)r["action"]! == "action.sessions_revoke" && (string)r["outcome"]! == "succeeded" && r.ToJsonString().Contains(CallerHash(caller), StringComparison.Ordinal));
    }

    [Fact]
    public async Task NotMe_SignsTheCallerOutEverywhere_Alarm_SignedWebhook_Audited_ThenSpent()
    {
        var (agent, caller) = await NewAgentAndCallerAsync();
        var link = await RecoveryNoticeLinkAsync(agent, caller);
        var (revokedBefore, resetBefore) = (caller.SessionsRevoked, caller.FactorsReset);
        var browser = Anonymous();

        // Opening the link (as a mail scanner or a link preview does) changes nothing.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(new Uri(new Uri(link).AbsolutePath, UriKind.Relative))).StatusCode);
        Assert.Equal((revokedBefore, resetBefore), (caller.SessionsRevoked, caller.FactorsReset));

        var (status, page, formPage) = await ConfirmAsync(browser, link);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("data-result=\"done\"", page, StringComparison.Ordinal);
        Assert.Equal(revokedBefore + 1, caller.SessionsRevoked);

        // A reported takeover is not a success: not in the success colour, and the page says what happened and what next.
        var done = System.Text.RegularExpressions.Regex.Match(page, "<div class=\"([^\"]*)\" role=\"status\" data-field=\"not-me-result\" data-result=\"done\">");
        Assert.True(done.Success, "The done page's result block was not found.");
        Assert.Equal("notice", done.Groups[1].Value);
        Assert.DoesNotContain("class=\"ok\"", page, StringComparison.Ordinal);
        Assert.Contains("Reported: call your security team", page, StringComparison.Ordinal);
        Assert.Contains("someone else may have tried to get into it", page, StringComparison.Ordinal);
        Assert.Contains("What to do now: call your security team", page, StringComparison.Ordinal);
        Assert.Contains("give no one a code or a password", page, StringComparison.Ordinal);

        // The factors an impostor may have enrolled with the access code are gone with the caller's own.
        Assert.Equal(resetBefore + 1, caller.FactorsReset);
        Assert.Empty(caller.Factors);

        // Under alarm: the console says so and offers nothing, not even recovery.
        var after = await agent.LookupAsync(caller.Login);
        Assert.Contains("data-code=\"Alarm\"", after, StringComparison.Ordinal);
        Assert.DoesNotContain("action=\"/verification/manager\"", after, StringComparison.Ordinal);

        // The tenant's webhook, signed by the documented recipe (docs/tenancy.md), computed here.
        var (body, signature) = await WaitForAsync(() => fixture.Received.FirstOrDefault(d => d.Body.Contains(CallerHash(caller), StringComparison.Ordinal)));
        var alert = JsonNode.Parse(body)!;
        Assert.Equal(RecoveryDisputes.AlertType, (string)alert["type"]!);
        Assert.Equal("tap_issue", (string)alert["reason"]!);
        Assert.DoesNotContain(caller.Email, body, StringComparison.OrdinalIgnoreCase);
        var t = long.Parse(signature.Split(',')[0]["t=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var expected = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(fixture.HookKey), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
        Assert.Equal($"t={t},v1={expected}", signature);

        var disputed = Assert.Single(await TenancyTestKit.AuditAsync(Host), r => (string)r["action"]! == RecoveryDisputes.AuditAction && r.ToJsonString().Contains(CallerHash(caller), StringComparison.Ordinal));
        Assert.Equal("alarm", (string)disputed["outcome"]!);
        Assert.Equal("tap_issue", (string)disputed["reason"]!);
        // The caller named as on the action's record (masked), not "***".
        Assert.Equal(Portal.Audit.PiiMask.Email(caller.Login), (string?)disputed["caller"]?["maskedLogin"]);

        // Single use: the second press says so and does nothing again.
        var again = await PortalTestHost.PostFormAsync(browser, new Uri(link).AbsolutePath, PortalTestHost.FormToken(formPage));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("data-result=\"used\"", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((revokedBefore + 1, resetBefore + 1), (caller.SessionsRevoked, caller.FactorsReset));
        Assert.Single(await TenancyTestKit.AuditAsync(Host), r => (string)r["action"]! == RecoveryDisputes.AuditAction && r.ToJsonString().Contains(CallerHash(caller), StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownOrExpiredLink_PlainNotFound_NothingDone()
    {
        var (agent, caller) = await NewAgentAndCallerAsync();
        var link = await RecoveryNoticeLinkAsync(agent, caller);
        var browser = Anonymous();
        var token = PortalTestHost.FormToken(await (await browser.GetAsync(new Uri(new Uri(link).AbsolutePath, UriKind.Relative))).Content.ReadAsStringAsync());
        var revokedBefore = caller.SessionsRevoked;

        var unknown = "/recovery/not-me/" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync(new Uri(unknown, UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PortalTestHost.PostFormAsync(browser, unknown, token)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync(new Uri("/recovery/not-me/short", UriKind.Relative))).StatusCode);

        await RewriteLinkAsync(link, l => l with { ExpiresAt = Host.Clock.GetUtcNow().AddSeconds(-1) });
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync(new Uri(new Uri(link).AbsolutePath, UriKind.Relative))).StatusCode);
        var expired = await PortalTestHost.PostFormAsync(browser, new Uri(link).AbsolutePath, token);
        Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        Assert.Contains("data-result=\"gone\"", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(revokedBefore, caller.SessionsRevoked);
        Assert.Equal(CallerGate.Open, await Host.Services.GetRequiredService<VerificationStore>().CheckGateAsync(PortalTestHost.TenantId, CallerHash(caller), forAction: true, CancellationToken.None));
        Assert.DoesNotContain(await TenancyTestKit.AuditAsync(Host), r => (string)r["action"]! == RecoveryDisputes.AuditAction && r.ToJsonString().Contains(CallerHash(caller), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALinkMovedToAnotherTenant_ActsInNeither()
    {
        var (agent, caller) = await NewAgentAndCallerAsync();
        var link = await RecoveryNoticeLinkAsync(agent, caller);
        var browser = Anonymous();
        var token = PortalTestHost.FormToken(await (await browser.GetAsync(new Uri(new Uri(link).AbsolutePath, UriKind.Relative))).Content.ReadAsStringAsync());
        var revokedBefore = caller.SessionsRevoked;

        // The record says the other organisation: the caller's id, sealed for this one, opens nowhere else.
        await RewriteLinkAsync(link, l => l with { TenantId = PortalTestHost.SecondTenantId });
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync(new Uri(new Uri(link).AbsolutePath, UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PortalTestHost.PostFormAsync(browser, new Uri(link).AbsolutePath, token)).StatusCode);

        Assert.Equal(revokedBefore, caller.SessionsRevoked);
        var gates = Host.Services.GetRequiredService<VerificationStore>();
        Assert.Equal(CallerGate.Open, await gates.CheckGateAsync(PortalTestHost.TenantId, CallerHash(caller), forAction: true, CancellationToken.None));
        Assert.Equal(CallerGate.Open, await gates.CheckGateAsync(PortalTestHost.SecondTenantId, CallerHash(caller), forAction: true, CancellationToken.None));
        foreach (var tenant in new[] { PortalTestHost.TenantId, PortalTestHost.SecondTenantId })
        {
            Assert.DoesNotContain(await TenancyTestKit.AuditAsync(Host, tenant), r => (string)r["action"]! == RecoveryDisputes.AuditAction);
        }
    }

    [Fact]
    public void CanNotify_OnlyWithARelay()
    {
        var tenant = new TenantSettings();
        Assert.False(RecoveryNotices.CanNotify(tenant));
        tenant.Recovery.Notices.Smtp.Host = "smtp.example.com";
        Assert.True(RecoveryNotices.CanNotify(tenant));
    }

    private async Task<(ConsoleDriver Agent, DemoCaller Caller)> NewAgentAndCallerAsync()
    {
        var agent = new ConsoleDriver(Host, await Host.SignInAsync(TestPeople.NewAgent(Emulator, "Helpdesk Tier 3")));
        var caller = Emulator.FindCaller(TestPeople.NewCaller(Emulator, push: true))!;
        return (agent, caller);
    }

    /// <summary>
    /// A verification of the caller by this agent session through <c>recovery.manager</c>, as an agent makes it: a
    /// manager of the test's own, asked from the console, picks the number on their device.
    /// </summary>
    private async Task<string> RecoveryVerificationAsync(ConsoleDriver agent, string login)
    {
        var manager = TestPeople.NewCaller(Emulator, push: true);
        Emulator.SetManager(login, manager);
        var form = ConsoleDriver.FormFor(await agent.LookupAsync(login), "/verification/manager");
        var started = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/manager", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var push = Assert.Single(Emulator.PendingPushes(manager));
        Assert.True(Emulator.AnswerPush(push.TransactionId, push.CorrectAnswer));
        return ConsoleDriver.VerificationId((await agent.PollAsync(started.Headers.Location!.OriginalString)).Next!);
    }

    /// <summary>A temporary access code through recovery, and the "This wasn't me" link of its notice.</summary>
    private async Task<string> RecoveryNoticeLinkAsync(ConsoleDriver agent, DemoCaller caller)
    {
        var verification = await RecoveryVerificationAsync(agent, caller.Login);
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("temporary-access", verification)).StatusCode);
        return LinkPattern().Match(Assert.Single(Emulator.Mailbox.To(caller.Email)).TextBody).Value;
    }

    /// <summary>Opens the link, presses the button: the answer's status and page, and the page with the form.</summary>
    private static async Task<(HttpStatusCode Status, string Page, string FormPage)> ConfirmAsync(HttpClient browser, string link)
    {
        var path = new Uri(link).AbsolutePath;
        var opened = await browser.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        var form = await opened.Content.ReadAsStringAsync();
        var posted = await PortalTestHost.PostFormAsync(browser, path, PortalTestHost.FormToken(form));
        return (posted.StatusCode, await posted.Content.ReadAsStringAsync(), form);
    }

    private async Task RewriteLinkAsync(string link, Func<RecoveryNoticeLink, RecoveryNoticeLink> change)
    {
        var token = new Uri(link).AbsolutePath.Split('/').Last();
        var key = new DocumentKey(new CollectionPath("recoveryNotices"), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))));
        var doc = (await Host.Store.GetAsync(key))!;
        var changed = change(DocumentJson.FromDocument<RecoveryNoticeLink>(doc.Data));
        await Host.Store.SetAsync(key, DocumentJson.ToDocument(changed), doc.ExpireAt);
    }

    private HttpClient Anonymous() => Host.NewClient();

    private string CallerHash(DemoCaller caller) =>
        Host.Services.GetRequiredService<Portal.Audit.ICallerPseudonymizer>().HashCallerId(PortalTestHost.TenantId, caller.Id);

    private static async Task<T> WaitForAsync<T>(Func<T?> find)
    {
        for (var i = 0; i < 100; i++)
        {
            if (find() is { } found && !EqualityComparer<T>.Default.Equals(found, default!))
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Not received.");
    }

    [GeneratedRegex(@"https?://[^\s]+/recovery/not-me/[A-Za-z0-9_-]{43}")]
    private static partial Regex LinkPattern();
}
