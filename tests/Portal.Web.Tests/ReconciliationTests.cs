using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Idp;
using Portal.IdpEmulator;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Reconciliation;

namespace Portal.Web.Tests;

/// <summary>
/// One portal with an Okta and an Entra tenant whose reconciliation is on, the emulator as both IdPs over real HTTP, and
/// a webhook receiver on this machine: shared by the tests of <see cref="ReconciliationTests"/>, which each act on users
/// of their own and drive the readings themselves (the background reading is off).
/// </summary>
public sealed class ReconciliationFixture : IAsyncLifetime
{
    private readonly string _signingVariable = "PORTAL_RECON_TEST_HOOK_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private WebApplication? _receiver;

    public StepUpTestHost Host { get; private set; } = null!;

    public string SigningKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public ConcurrentQueue<string> Received { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            Received.Enqueue(await reader.ReadToEndAsync());
            return Results.Ok();
        });
        await _receiver.StartAsync();
        Environment.SetEnvironmentVariable(_signingVariable, SigningKey);
        var hook = _receiver.Urls.First().TrimEnd('/') + "/hook";
        Host = new StepUpTestHost
        {
            ExtraSettings = _ => new Dictionary<string, string?>
            {
                ["Portal:Tenancy:ReconciliationInBackground"] = "false",
                ["Portal:Alerts:AllowLoopbackDestinations"] = "true",
                ["Portal:Alerts:RetryDelaysSeconds:0"] = "0",
                ["Portal:Tenants:0:GroupTiers:Helpdesk Admins"] = "Tenant admin",
                ["Portal:Tenants:0:Reconciliation:Enabled"] = "true",
                ["Portal:Tenants:0:Reconciliation:AlarmOn:0"] = "PasswordReset",
                ["Portal:Tenants:0:Idp:Okta:ApiTokenId"] = EmulatorAdmins.OktaApiTokenId,
                ["Portal:Tenants:0:AlertWebhook:Url"] = hook,
                ["Portal:Tenants:0:AlertWebhook:SigningSecretSecret"] = "env:" + _signingVariable,
                ["Portal:Tenants:1:Reconciliation:Enabled"] = "true",
                ["Portal:Tenants:1:Reconciliation:AlarmOn:0"] = "TemporaryAccessIssued",
            },
        };
        await Host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }

        Environment.SetEnvironmentVariable(_signingVariable, null);
    }
}

/// <summary>
/// Reconciliation end to end: an administrator's action at the IdP's console is recorded once as an action outside the
/// portal, with the alarm on the tenant's webhook; the portal's own actions are not; a re-read (a crash before the cursor
/// moved, Entra's overlap) records nothing twice; the connection and usage pages show it.
/// </summary>
public sealed class ReconciliationTests(ReconciliationFixture fixture) : IClassFixture<ReconciliationFixture>
{
    private StepUpTestHost Host => fixture.Host;

    private EmulatorState Idp => Host.Emulator.State;

    private ReconciliationWatcher Watcher => Host.Factory.Services.GetRequiredService<ReconciliationWatcher>();

    private TenantSettings Tenant(string id) => Host.Factory.Services.GetRequiredService<ITenantCatalog>().Find(id)!;

    [Fact]
    public async Task Okta_AdminResetsAPasswordAtTheConsole_RecordedOnceAsOutsideThePortal_AlarmOnTheWebhook_ThePortalsOwnResetNot()
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var portals = NewOktaUser();
        var admins = NewOktaUser();
        await Watcher.RunOnceAsync(okta, default);

        var own = await Host.Factory.Services.GetRequiredService<TenantDirectories>().For(okta).ResetPasswordAsync(portals.Id, PasswordResetKind.OneTimeLink);
        Idp.ActAsAdmin(AdminAction.ResetPassword, admins.Login, IdpSide.Okta);
        var run = await Watcher.RunOnceAsync(okta, default);
        var again = await Watcher.RunOnceAsync(okta, default);

        Assert.True(own.IsSuccess);
        Assert.Equal((1, 1), (run.Recorded, run.ByPortal));
        Assert.Equal(0, again.Recorded);
        Assert.Empty(await OutsideRecordsAsync(okta.Id, portals.Id));
        var record = Assert.Single(await OutsideRecordsAsync(okta.Id, admins.Id));
        Assert.Equal("outside.password_reset", record.Action);
        Assert.Equal(AuditOutcome.Alarm, record.Outcome);
        Assert.Equal("no_portal_verification", record.Reason);
        Assert.Equal(EmulatorAdmins.OktaAdminId, record.Agent.SubjectId);
        Assert.NotEqual(EmulatorAdmins.OktaAdminLogin, record.Agent.MaskedLogin);
        Assert.StartsWith("o", record.Agent.MaskedLogin, StringComparison.Ordinal);
        Assert.NotEqual(admins.Login, record.Caller!.MaskedLogin);
        Assert.Equal("okta.system_log", record.Method);
        Assert.Equal("203.0.113.0/24", record.ClientNet); // the administrator's address as Okta logged it, as a network
        // Okta's log keeps milliseconds: the record is dated by the log, not by the reading.
        Assert.True((Idp.AdminActivities.Last(a => a.TargetId == admins.Id).At - record.At).Duration() < TimeSpan.FromMilliseconds(1));

        // The agent who looks the caller up is told before acting on an account someone just changed elsewhere, however
        // many records of the caller came after it.
        var trail = Host.Factory.Services.GetRequiredService<IAuditTrail>();
        for (var i = 0; i < 30; i++)
        {
            await trail.RecordAsync(new AuditEntry { TenantId = okta.Id, Action = "caller.lookup", Outcome = AuditOutcome.Succeeded, AgentSubjectId = "agent-x", AgentLogin = "agent.x@demo.example", CallerId = admins.Id, CallerLogin = admins.Login });
        }

        var agent = await Host.SignInOktaAsync("tier3.agent@demo.example");
        var card = WebUtility.HtmlDecode(await Host.LookupAsync(agent, admins.Login));
        Assert.Contains("Changed outside the portal.", card, StringComparison.Ordinal);
        Assert.Contains("outside.password_reset at", card, StringComparison.Ordinal);
        Assert.DoesNotContain("data-field=\"outside-actions\"", await Host.LookupAsync(agent, portals.Login), StringComparison.Ordinal);

        var alarm = await WaitForAsync(() => fixture.Received.Select(b => JsonNode.Parse(b)!).FirstOrDefault(j => (string?)j["id"] == record.Id));
        Assert.Equal(ReconciliationWatcher.AlertType, (string)alarm["type"]!);
        Assert.Equal("password_reset", (string)alarm["reason"]!);
        Assert.Equal(record.Caller.IdHash, (string)alarm["callerIdHash"]!);
        Assert.DoesNotContain(admins.Login, alarm.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(admins.Id, alarm.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Okta_AKindNotInAlarmOn_RecordedWithoutAnAlarm()
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var user = NewOktaUser();
        await Watcher.RunOnceAsync(okta, default);

        Idp.ActAsAdmin(AdminAction.ClearSessions, user.Login, IdpSide.Okta);
        await Watcher.RunOnceAsync(okta, default);

        var record = Assert.Single(await OutsideRecordsAsync(okta.Id, user.Id));
        Assert.Equal("outside.sessions_revoked", record.Action);
        Assert.Equal(AuditOutcome.Succeeded, record.Outcome);
        await Task.Delay(200);
        Assert.DoesNotContain(fixture.Received, b => b.Contains(record.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Okta_CrashAfterRecordingBeforeTheCursorMoved_TheNextReadRecordsOnlyWhatIsNew_NoSecondAlarm()
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var states = Host.Factory.Services.GetRequiredService<ReconciliationStore>();
        var user = NewOktaUser();
        await Watcher.RunOnceAsync(okta, default);
        var before = (await states.GetAsync(okta.Id, default))!.Cursor;

        Idp.ActAsAdmin(AdminAction.ResetPassword, user.Login, IdpSide.Okta);
        Assert.Equal(1, (await Watcher.RunOnceAsync(okta, default)).Recorded);
        // As if the instance had died after recording and before writing the cursor: the cursor is the old one.
        await states.SetCursorAsync(okta.Id, before, default);
        Idp.ActAsAdmin(AdminAction.ResetMfa, user.Login, IdpSide.Okta);
        var reread = await Watcher.RunOnceAsync(okta, default);

        Assert.Equal(1, reread.Recorded);
        Assert.True(reread.Repeated >= 1);
        var records = await OutsideRecordsAsync(okta.Id, user.Id);
        Assert.Equal(["outside.factors_reset", "outside.password_reset"], records.Select(r => r.Action).Order(StringComparer.Ordinal));
        var reset = records.Single(r => r.Action == "outside.password_reset");
        await WaitForAsync(() => fixture.Received.FirstOrDefault(b => b.Contains(reset.Id, StringComparison.Ordinal)));
        await Task.Delay(200);
        Assert.Single(fixture.Received, b => b.Contains(reset.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Okta_ManyActions_ReadAcrossSeveralPagesOfTheLog_EachRecordedOnce()
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var user = NewOktaUser();
        await Watcher.RunOnceAsync(okta, default);
        const int Count = 450;
        for (var i = 0; i < Count; i++)
        {
            Idp.ActAsAdmin(AdminAction.ClearSessions, user.Login, IdpSide.Okta);
        }

        var run = await Watcher.RunOnceAsync(okta, default);

        Assert.Equal(Count, run.Recorded);
        var hash = Host.Factory.Services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(okta.Id, user.Id);
        var stored = (await Host.AuditAsync(okta.Id)).Count(r => (string?)r["action"] == "outside.sessions_revoked" && (string?)r["caller"]?["idHash"] == hash);
        Assert.Equal(Count, stored);
        Assert.True(Host.Emulator.State.Requests.Count(r => r.PathAndQuery.StartsWith("/api/v1/logs", StringComparison.Ordinal) && r.PathAndQuery.Contains("after=", StringComparison.Ordinal)) >= 3);
    }

    /// <summary>
    /// The administrator is also an agent of the portal (same IdP account): what they did in the portal about this user,
    /// minutes before their console action, decides the record's reason. Only a result counts: a push sent is audited
    /// "succeeded" as soon as it is on the phone, whatever the caller answers.
    /// </summary>
    [Theory]
    [InlineData("verification.totp", "okta.totp", "portal_verification_found")]
    [InlineData("verification.push.start", "okta.push", "no_portal_verification")]
    public async Task Okta_WhatTheAdminDidInThePortalFirst_DecidesWhetherTheRecordSaysVerified(string portalAction, string method, string reason)
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var user = NewOktaUser("LOCKED_OUT");
        await Watcher.RunOnceAsync(okta, default);
        await Host.Factory.Services.GetRequiredService<IAuditTrail>().RecordAsync(new AuditEntry
        {
            TenantId = okta.Id,
            Action = portalAction,
            Outcome = AuditOutcome.Succeeded,
            AgentSubjectId = EmulatorAdmins.OktaAdminId,
            AgentLogin = EmulatorAdmins.OktaAdminLogin,
            CallerId = user.Id,
            CallerLogin = user.Login,
            Method = method,
        });
        Host.Clock.Advance(TimeSpan.FromMinutes(3));

        Idp.ActAsAdmin(AdminAction.Unlock, user.Login, IdpSide.Okta);
        await Watcher.RunOnceAsync(okta, default);

        var record = Assert.Single(await OutsideRecordsAsync(okta.Id, user.Id));
        Assert.Equal("outside.unlocked", record.Action);
        Assert.Equal(reason, record.Reason);
    }

    [Fact]
    public async Task Entra_AdminIssuesATapAtTheAdminCenter_RecordedOnceWithTheAlarm_ThePortalsOwnNot_TheOverlapRecordsNothingTwice()
    {
        var entra = Tenant(StepUpTestHost.EntraTenant);
        var grace = Idp.FindEntraUser("grace.caller@entra.example")!;
        var heidi = Idp.FindEntraUser("heidi.caller@entra.example")!;
        await Watcher.RunOnceAsync(entra, default);

        Assert.True((await Host.Factory.Services.GetRequiredService<TenantDirectories>().For(entra).RevokeSessionsAsync(grace.Id)).IsSuccess);
        Idp.ActAsAdmin(AdminAction.IssueTemporaryAccess, heidi.UserPrincipalName, IdpSide.Entra);
        var run = await Watcher.RunOnceAsync(entra, default);
        var overlap = await Watcher.RunOnceAsync(entra, default);

        Assert.Equal(1, run.Recorded);
        Assert.True(run.ByPortal >= 1);
        Assert.Equal(0, overlap.Recorded);
        Assert.True(overlap.Repeated >= 1);
        Assert.Empty(await OutsideRecordsAsync(entra.Id, grace.Id));
        var record = Assert.Single(await OutsideRecordsAsync(entra.Id, heidi.Id));
        Assert.Equal("outside.temporary_access_issued", record.Action);
        Assert.Equal(AuditOutcome.Alarm, record.Outcome);
        Assert.Equal(EmulatorAdmins.EntraAdminId, record.Agent.SubjectId);
        Assert.Equal("entra.directory_audit", record.Method);
    }

    [Fact]
    public async Task Okta_TheLogRefused_TheConnectionPageSaysWhy_LookUpsGoOn_TheNextReadClearsIt()
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var admin = await Host.SignInOktaAsync("admin@demo.example");
        Idp.FailNext(403, "/api/v1/logs");

        var refused = await Watcher.RunOnceAsync(okta, default);
        var page = await Host.GetPageAsync(admin, "/admin/connection");
        var agent = await Host.SignInOktaAsync("tier3.agent@demo.example");
        var lookup = await Host.LookupAsync(agent, "alice.caller@demo.example");
        var next = await Watcher.RunOnceAsync(okta, default);
        var after = await Host.GetPageAsync(admin, "/admin/connection");

        Assert.NotNull(refused.ErrorCode);
        Assert.Contains("may not read the System Log", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Contains("okta.logs.read", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"caller-card\"", lookup, StringComparison.Ordinal);
        Assert.Null(next.ErrorCode);
        Assert.DoesNotContain("may not read the System Log", WebUtility.HtmlDecode(after), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Okta_AnOutageLongerThanTheLookBack_LosesNothing_APauseStartsFromTheLookBack()
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var lookback = TimeSpan.FromMinutes(okta.Reconciliation.LookbackMinutes);
        var duringOutage = NewOktaUser();
        var beforePause = NewOktaUser();
        await Watcher.RunOnceAsync(okta, default);

        // The IdP refuses every reading for longer than the look-back; each failed try is dated, so it is no pause.
        Idp.ActAsAdmin(AdminAction.ClearSessions, duringOutage.Login, IdpSide.Okta);
        foreach (var _ in Enumerable.Range(0, 3))
        {
            Host.Clock.Advance(lookback / 2);
            Idp.FailNext(403, "/api/v1/logs");
            Assert.NotNull((await Watcher.RunOnceAsync(okta, default)).ErrorCode);
        }

        var afterOutage = await Watcher.RunOnceAsync(okta, default);

        // Nothing tried at all for longer than the look-back (reconciliation off): the reading starts from the look-back.
        Idp.ActAsAdmin(AdminAction.ClearSessions, beforePause.Login, IdpSide.Okta);
        Host.Clock.Advance(lookback + TimeSpan.FromMinutes(5));
        await Watcher.RunOnceAsync(okta, default);

        Assert.Null(afterOutage.ErrorCode);
        Assert.Single(await OutsideRecordsAsync(okta.Id, duringOutage.Id));
        Assert.Empty(await OutsideRecordsAsync(okta.Id, beforePause.Id));
    }

    [Fact]
    public async Task Lease_OneInstanceReadsATenantAtATime_UntilItGivesUpOrItsLeaseRunsOut_ALostLeaseMovesNothing()
    {
        var states = Host.Factory.Services.GetRequiredService<ReconciliationStore>();
        const string TenantId = "lease-test";
        var now = Host.Clock.GetUtcNow();

        var a = await states.TryLeaseAsync(TenantId, "instance-a", now, now.AddMinutes(2), default);
        var b = await states.TryLeaseAsync(TenantId, "instance-b", now.AddMinutes(1), now.AddMinutes(3), default);
        var bLater = await states.TryLeaseAsync(TenantId, "instance-b", now.AddMinutes(2).AddSeconds(1), now.AddMinutes(4), default);
        var aAdvances = await states.AdvanceAsync(TenantId, "instance-a", "/api/v1/logs?after=x", null, 1, now.AddMinutes(2).AddSeconds(2), now.AddMinutes(5), default);
        await states.ReleaseAsync(TenantId, "instance-b", default);
        var aAgain = await states.TryLeaseAsync(TenantId, "instance-a", now.AddMinutes(3), now.AddMinutes(5), default);

        Assert.NotNull(a);
        Assert.Null(b);
        Assert.NotNull(bLater);
        Assert.False(aAdvances);
        Assert.Null((await states.GetAsync(TenantId, default))!.Cursor);
        Assert.NotNull(aAgain);
    }

    [Fact]
    public async Task Pages_ConnectionShowsTheReading_AuditMarksTheRecord_UsageCountsIt()
    {
        var okta = Tenant(StepUpTestHost.OktaTenant);
        var user = NewOktaUser();
        Idp.ActAsAdmin(AdminAction.ResetPassword, user.Login, IdpSide.Okta);
        await Watcher.RunOnceAsync(okta, default);
        var admin = await Host.SignInOktaAsync("admin@demo.example");

        var connection = await Host.GetPageAsync(admin, "/admin/connection");
        var audit = await Host.GetPageAsync(admin, "/audit?action=outside.password_reset");
        var usage = await Host.GetPageAsync(admin, "/usage");

        Assert.Contains("data-state=\"reading\"", connection, StringComparison.Ordinal);
        Assert.Contains("data-field=\"recorded\"", connection, StringComparison.Ordinal);
        Assert.Contains("Outside the portal", audit, StringComparison.Ordinal);
        Assert.Contains("data-outside=\"password_reset\"", usage, StringComparison.Ordinal);
    }

    private DemoCaller NewOktaUser(string status = "ACTIVE")
    {
        var login = $"recon{Guid.NewGuid():N}@demo.example";
        return Idp.AddCaller(login, login, "Recon", "Caller", status);
    }

    private async Task<List<AuditRecord>> OutsideRecordsAsync(string tenantId, string userId)
    {
        var hash = Host.Factory.Services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(tenantId, userId);
        var page = await Host.Factory.Services.GetRequiredService<IAuditTrail>().QueryAsync(tenantId, new AuditQuery { CallerIdHash = hash, PageSize = 200 });
        return [.. page.Records.Where(r => r.Action.StartsWith(ReconciliationWatcher.ActionPrefix, StringComparison.Ordinal))];
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        for (var i = 0; i < 200; i++)
        {
            if (probe() is { } found)
            {
                return found;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("Not seen in time.");
    }
}
