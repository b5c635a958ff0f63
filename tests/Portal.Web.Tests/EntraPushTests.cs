using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// <c>entra.push</c> over real HTTP: the portal calls the emulator's Azure MFA connector, which holds the request open
/// until the caller answers on the emulated phone. Off unless the tenant turns it on; accepted only by actions whose
/// policy names it.
/// </summary>
public sealed class EntraPushTests
{
    private const string Grace = "grace.caller@entra.example";
    private const string Tier3 = "tier3.agent@entra.example";
    private const string Tenant = StepUpTestHost.EntraTenant;

    [Fact]
    public async Task EntraPush_SwitchOff_NotOfferedAndCraftedPostRefused()
    {
        await WithHostAsync(new StepUpTestHost(), async host =>
        {
            var agent = await host.SignInEntraAsync(Tier3);
            var callerPage = await host.LookupAsync(agent, Grace);
            Assert.DoesNotContain(VerificationMethodName, callerPage, StringComparison.Ordinal);
            Assert.DoesNotContain("unsupported by Microsoft", callerPage, StringComparison.Ordinal);
            Assert.DoesNotContain("action=\"/verification/entrapush\"", callerPage, StringComparison.Ordinal);

            var response = await PostEntraPushAsync(agent, callerPage);

            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Empty(host.Emulator.State.PendingEntraPushes(Grace));
            Assert.Contains(await host.AuditAsync(Tenant), d => Is(d, "verification.entrapush.start", "denied", "entra_push_disabled"));
        });
    }

    /// <summary>Heightened-threat mode (docs/tenancy.md) puts the Entra push, which has no number to match, below its floor.</summary>
    [Fact]
    public async Task EntraPush_HeightenedModeOn_NotOfferedSaysWhy_CraftedPostRefusedBeforeThePhone()
    {
        await WithHostAsync(NewHost(revokeAcceptsEntraPush: true), async host =>
        {
            // The mode as the console stores it in the tenant's document (this Entra demo tenant has no admin agent).
            var catalog = host.Services.GetRequiredService<TenantCatalog>();
            var policy = catalog.PolicyOf(Tenant)!;
            policy.HeightenedMode = new HeightenedModeSettings { On = true, Since = host.Time.GetUtcNow(), Reason = "active_attack" };
            policy.Revision++;
            await host.Store.SetAsync(TenantCatalog.KeyOf(Tenant), DocumentJson.ToDocument(policy), null, CancellationToken.None);
            await catalog.RefreshAsync(CancellationToken.None);

            var agent = await host.SignInEntraAsync(Tier3);
            var callerPage = await host.LookupAsync(agent, Grace);
            Assert.DoesNotContain("action=\"/verification/entrapush\"", callerPage, StringComparison.Ordinal);
            Assert.Contains("data-field=\"heightened-withheld\"", callerPage, StringComparison.Ordinal);
            Assert.Contains("data-field=\"heightened-banner\"", callerPage, StringComparison.Ordinal);

            var response = await PostEntraPushAsync(agent, callerPage);

            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Contains("data-code=\"heightened_mode\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Empty(host.Emulator.State.PendingEntraPushes(Grace));
            Assert.Contains(await host.AuditAsync(Tenant), d => Is(d, "verification.entrapush.start", "denied", "heightened_mode"));
        });
    }

    [Fact]
    public async Task EntraPush_ApprovedAndPolicyListsIt_RevokeAllowedTapRefused()
    {
        await WithHostAsync(NewHost(revokeAcceptsEntraPush: true), async host =>
        {
            var agent = await host.SignInEntraAsync(Tier3);
            var callerPage = await host.LookupAsync(agent, Grace);
            Assert.Contains(VerificationMethodName, callerPage, StringComparison.Ordinal);
            Assert.Contains("unsupported by Microsoft, no number matching", callerPage, StringComparison.Ordinal);
            Assert.Contains("action=\"/verification/entrapush\"", callerPage, StringComparison.Ordinal);

            var answered = AnswerWhenPushedAsync(host, approve: true);
            var response = await PostEntraPushAsync(agent, callerPage);
            Assert.True(await answered);

            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            var next = response.Headers.Location!.OriginalString;
            Assert.StartsWith("/verification/session/", next, StringComparison.Ordinal);
            var verificationId = next.Split('/')[^1];

            var tap = await ActAsync(host, agent, "temporary-access", verificationId);
            Assert.Equal(HttpStatusCode.Forbidden, tap.StatusCode);
            Assert.Equal(0, host.Emulator.State.FindEntraUser(Grace)!.TemporaryAccessPassesIssued);

            var revoke = await ActAsync(host, agent, "revoke-sessions", verificationId);
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
            Assert.Equal(1, host.Emulator.State.FindEntraUser(Grace)!.SessionsRevoked);

            var audit = await host.AuditAsync(Tenant);
            Assert.Contains(audit, d => Is(d, "verification.entrapush.start", "succeeded", null) && (string?)d["method"] == "entra.push");
            Assert.Contains(audit, d => Is(d, "verification.entrapush.result", "succeeded", "approved"));
            Assert.Contains(audit, d => Is(d, "action.tap_issue", "denied", "method_insufficient"));
            Assert.Contains(audit, d => Is(d, "action.sessions_revoke", "succeeded", null));
        });
    }

    [Fact]
    public async Task EntraPush_ApprovedButPolicyDoesNotListIt_RevokeRefused()
    {
        await WithHostAsync(NewHost(revokeAcceptsEntraPush: false), async host =>
        {
            var agent = await host.SignInEntraAsync(Tier3);
            var callerPage = await host.LookupAsync(agent, Grace);

            var answered = AnswerWhenPushedAsync(host, approve: true);
            var response = await PostEntraPushAsync(agent, callerPage);
            Assert.True(await answered);
            var verificationId = response.Headers.Location!.OriginalString.Split('/')[^1];

            var revoke = await ActAsync(host, agent, "revoke-sessions", verificationId);

            Assert.Equal(HttpStatusCode.Forbidden, revoke.StatusCode);
            Assert.Equal(0, host.Emulator.State.FindEntraUser(Grace)!.SessionsRevoked);
            Assert.Contains(await host.AuditAsync(Tenant), d => Is(d, "action.sessions_revoke", "denied", "method_insufficient"));
        });
    }

    [Fact]
    public async Task EntraPush_Denied_AlarmAndActionsBlocked()
    {
        await WithHostAsync(NewHost(revokeAcceptsEntraPush: true), async host =>
        {
            var agent = await host.SignInEntraAsync(Tier3);
            var callerPage = await host.LookupAsync(agent, Grace);

            // A first push approved: a live verification that the alarm must then block.
            var approved = AnswerWhenPushedAsync(host, approve: true);
            var first = await PostEntraPushAsync(agent, callerPage);
            Assert.True(await approved);
            var verificationId = first.Headers.Location!.OriginalString.Split('/')[^1];

            var denied = AnswerWhenPushedAsync(host, approve: false);
            var second = await PostEntraPushAsync(agent, await host.LookupAsync(agent, Grace));
            Assert.True(await denied);

            Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
            var pendingPath = second.Headers.Location!.OriginalString;
            Assert.StartsWith("/verification/pending/", pendingPath, StringComparison.Ordinal);
            var pendingPage = WebUtility.HtmlDecode(await host.GetPageAsync(agent, pendingPath));
            Assert.Contains("Denied. Do not act on this account", pendingPage, StringComparison.Ordinal);

            var revoke = await ActAsync(host, agent, "revoke-sessions", verificationId);
            Assert.Equal(HttpStatusCode.Forbidden, revoke.StatusCode);
            Assert.Equal(0, host.Emulator.State.FindEntraUser(Grace)!.SessionsRevoked);

            // The console offers no push to a caller under alarm; the form from before the alarm, posted again, is refused.
            Assert.DoesNotContain("action=\"/verification/entrapush\"", await host.LookupAsync(agent, Grace), StringComparison.Ordinal);
            var third = await PostEntraPushAsync(agent, callerPage);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, third.StatusCode);
            Assert.Empty(host.Emulator.State.PendingEntraPushes(Grace));

            var audit = await host.AuditAsync(Tenant);
            Assert.Contains(audit, d => Is(d, "verification.entrapush.result", "alarm", "push_rejected"));
            Assert.Contains(audit, d => Is(d, "action.sessions_revoke", "denied", "caller_alarm"));
            Assert.Contains(audit, d => Is(d, "verification.entrapush.start", "denied", "caller_alarm"));
        });
    }

    private const string VerificationMethodName = "entra.push";

    private static StepUpTestHost NewHost(bool revokeAcceptsEntraPush) => new()
    {
        EnableEntraPush = true,
        ExtraSettings = _ => revokeAcceptsEntraPush
            ? new Dictionary<string, string?>
            {
                ["Portal:Tenants:1:ActionMethods:sessions_revoke:0"] = "oidc.stepup",
                ["Portal:Tenants:1:ActionMethods:sessions_revoke:1"] = "entra.push",
            }
            : [],
    };

    private static async Task WithHostAsync(StepUpTestHost host, Func<StepUpTestHost, Task> test)
    {
        await host.InitializeAsync();
        try
        {
            await test(host);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>The caller, on their phone, answers the first push that reaches it while the agent's POST waits.</summary>
    private static Task<bool> AnswerWhenPushedAsync(StepUpTestHost host, bool approve) => Task.Run(async () =>
    {
        for (var i = 0; i < 1500; i++)
        {
            var pending = host.Emulator.State.PendingEntraPushes(Grace);
            if (pending.Count > 0)
            {
                var push = pending[0];
                Assert.DoesNotContain(Grace, push.CallerName, StringComparison.OrdinalIgnoreCase);
                return host.Emulator.State.AnswerEntraPush(push.Id, approve);
            }

            await Task.Delay(20);
        }

        return false;
    });

    private static Task<HttpResponseMessage> PostEntraPushAsync(HttpClient agent, string callerPage)
    {
        // The caller reference is the one every verification form on the caller's page carries.
        var form = System.Text.RegularExpressions.Regex.Match(callerPage, "<form method=\"post\" action=\"/verification/stepup\"[\\s\\S]*?</form>").Value;
        return PortalTestHost.PostFormAsync(agent, "/verification/entrapush", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", "entra-push"));
    }

    private static async Task<HttpResponseMessage> ActAsync(StepUpTestHost host, HttpClient agent, string route, string verificationId)
    {
        var token = PortalTestHost.FormToken(await host.GetPageAsync(agent, "/console"));
        var posted = await PortalTestHost.PostFormAsync(agent, "/actions/" + route, token, ("verificationId", verificationId), ("confirmed", "true"), ("ticketRef", "INC-7"));
        return await PortalTestHost.FollowSeeOtherAsync(agent, posted, "/actions/result/");
    }

    private static bool Is(JsonObject record, string action, string outcome, string? reason) =>
        (string?)record["action"] == action && (string?)record["outcome"] == outcome && (reason is null || (string?)record["reason"] == reason);
}
