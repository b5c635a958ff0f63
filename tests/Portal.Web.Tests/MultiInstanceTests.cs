using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Reconciliation;

namespace Portal.Web.Tests;

/// <summary>
/// Two portal instances (as Cloud Run runs them) sharing one Firestore: any request may land on either,
/// and nothing that one instance knows is missing on the other.
/// </summary>
[Collection(FirestoreCollection.Name)]
public sealed class MultiInstanceTests(FirestoreEmulatorProcess firestore) : IAsyncLifetime
{
    private const string Alice = "alice.caller@demo.example";
    private const string Bob = "bob.caller@demo.example";
    private const string Tier3 = "tier3.agent@demo.example";

    private readonly string _projectId = FirestoreEmulatorProcess.NewProjectId();
    private readonly PortalTestHost _a = new();
    private PortalTestHost? _b;

    private PortalTestHost B => _b!;

    public async Task InitializeAsync()
    {
        // Reconciliation on, read only when a test asks (the background reading is off).
        _a.Settings["Portal:Tenancy:ReconciliationInBackground"] = "false";
        _a.Settings["Portal:Tenants:0:Reconciliation:Enabled"] = "true";
        _a.Settings["Portal:Tenants:0:Idp:Okta:ApiTokenId"] = Portal.IdpEmulator.EmulatorAdmins.OktaApiTokenId;

        await _a.UseFirestore(firestore.Host, _projectId).InitializeAsync();
        _b = new PortalTestHost(_a).UseFirestore(firestore.Host, _projectId);
        foreach (var (key, value) in _a.Settings.Where(s => s.Key.Contains("Reconciliation", StringComparison.Ordinal) || s.Key.EndsWith("ApiTokenId", StringComparison.Ordinal)))
        {
            _b.Settings[key] = value;
        }

        await _b.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_b is not null)
        {
            await _b.DisposeAsync();
        }

        await _a.DisposeAsync();
    }

    [Fact]
    public async Task FormRenderedByA_PostedToB_IsAccepted()
    {
        var cookies = new CookieContainer();
        var onA = _a.NewClient(cookies);
        var onB = B.NewClient(cookies);
        await _a.SignInAsync(Tier3, onA);

        var console = await onA.GetStringAsync("/console");
        var lookup = await PortalTestHost.PostFormAsync(onB, "/console/lookup", PortalTestHost.FormToken(console), ("login", Alice));

        Assert.Equal(HttpStatusCode.OK, lookup.StatusCode);
        Assert.Contains("Caller: Alice Caller", await lookup.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerificationMadeThroughA_IsUsableThroughB_ButNotReplayable()
    {
        var cookies = new CookieContainer();
        var onA = new ConsoleDriver(_a, _a.NewClient(cookies));
        var onB = new ConsoleDriver(B, B.NewClient(cookies));
        await _a.SignInAsync(Tier3, onA.Browser);
        var id = ConsoleDriver.VerificationId(await onA.VerifyByPushAsync(Alice));

        var onBFirst = await onB.ActAsync("revoke-sessions", id);
        var onAReplay = await onA.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.OK, onBFirst.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, onAReplay.StatusCode);
        Assert.Equal(1, _a.Emulator.State.FindCaller(Alice)!.SessionsRevoked);
    }

    [Fact]
    public async Task SameActionOnBothInstancesAtOnce_RunsOnce()
    {
        var cookies = new CookieContainer();
        var onA = new ConsoleDriver(_a, _a.NewClient(cookies));
        var onB = new ConsoleDriver(B, B.NewClient(cookies));
        await _a.SignInAsync(Tier3, onA.Browser);
        var id = ConsoleDriver.VerificationId(await onA.VerifyByPushAsync(Alice));
        var token = PortalTestHost.FormToken(await onA.GetPageAsync("/console"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            (i % 2 == 0 ? onA : onB).PostActionAsync("revoke-sessions", token, id)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(1, _a.Emulator.State.FindCaller(Alice)!.SessionsRevoked);
    }

    /// <summary>
    /// Both instances read the Okta log at once, round after round, while an administrator keeps acting at the console:
    /// each outside action is recorded exactly once, in the shared store (the lease lets one read at a time; the
    /// records' ids come from the IdP's event ids).
    /// </summary>
    [Fact]
    public async Task ReconciliationOnBothInstancesAtOnce_RecordsEachOutsideActionOnce()
    {
        var onA = _a.Factory.Services.GetRequiredService<ReconciliationWatcher>();
        var onB = B.Factory.Services.GetRequiredService<ReconciliationWatcher>();
        var tenantA = _a.Factory.Services.GetRequiredService<ITenantCatalog>().Find(PortalTestHost.TenantId)!;
        var tenantB = B.Factory.Services.GetRequiredService<ITenantCatalog>().Find(PortalTestHost.TenantId)!;
        var idp = _a.Emulator.State;
        var acted = 0;

        for (var round = 0; round < 4; round++)
        {
            var user = idp.AddCaller($"multi{round}{Guid.NewGuid():N}@demo.example", $"multi{round}@demo.example", "Multi", "Caller");
            idp.ActAsAdmin(Portal.IdpEmulator.AdminAction.ResetPassword, user.Login, Portal.IdpEmulator.IdpSide.Okta);
            idp.ActAsAdmin(Portal.IdpEmulator.AdminAction.ClearSessions, user.Login, Portal.IdpEmulator.IdpSide.Okta);
            acted += 2;
            await Task.WhenAll(onA.RunOnceAsync(tenantA, default), onB.RunOnceAsync(tenantB, default));
        }

        await onB.RunOnceAsync(tenantB, default);
        await onA.RunOnceAsync(tenantA, default);

        var records = new List<string>();
        await foreach (var doc in B.Store.QueryAsync(new Portal.Storage.DocumentQuery(Portal.Storage.CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"))))
        {
            if (((string?)doc.Data["action"])?.StartsWith("outside.", StringComparison.Ordinal) == true)
            {
                records.Add(doc.Key.Id);
            }
        }

        Assert.Equal(acted, records.Count);
        Assert.Equal(acted, records.Distinct().Count());
    }

    /// <summary>
    /// Many tabs polling one push on two instances: the IdP hears at most one poll per push every two seconds,
    /// and what that poll learnt reaches every tab on either instance through the store.
    /// </summary>
    [Fact]
    public async Task PushPolledFromManyTabsOnBothInstances_ReachesTheIdpOncePerInterval()
    {
        var cookies = new CookieContainer();
        var onA = new ConsoleDriver(_a, _a.NewClient(cookies));
        var onB = new ConsoleDriver(B, B.NewClient(cookies));
        await _a.SignInAsync(Tier3, onA.Browser);
        var pending = await onA.StartPushAsync(await onA.LookupAsync(Alice));
        var push = Assert.Single(_a.Emulator.State.PendingPushes(Alice));
        int IdpPolls() => _a.Emulator.State.Requests.Count(r => r.Method == "GET" && r.PathAndQuery.Contains("/transactions/", StringComparison.Ordinal));

        var burst = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => (i % 2 == 0 ? onA : onB).PollAsync(pending)));

        Assert.All(burst, r => Assert.Equal("Waiting", r.State));
        Assert.Equal(1, IdpPolls());

        _a.Emulator.State.AnswerPush(push.TransactionId, push.CorrectAnswer);
        var stillWithinInterval = await onB.PollAsync(pending);
        Assert.Equal("Waiting", stillWithinInterval.State);
        Assert.Equal(1, IdpPolls());

        _a.Clock.Advance(VerificationStore.PushPollInterval);
        var afterInterval = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? onA : onB).PollAsync(pending)));

        Assert.Equal(2, IdpPolls());
        Assert.Contains(afterInterval, r => r.State == "Approved");
        // A tab whose poll was not the one that asked the IdP learns the outcome from the store on its next poll.
        Assert.Equal("Approved", (await onA.PollAsync(pending)).State);
        Assert.Equal("Approved", (await onB.PollAsync(pending)).State);
        Assert.Equal(2, IdpPolls());
    }

    [Fact]
    public async Task FailedAttempts_CountAcrossInstances()
    {
        var cookies = new CookieContainer();
        var onA = new ConsoleDriver(_a, _a.NewClient(cookies));
        var onB = new ConsoleDriver(B, B.NewClient(cookies));
        await _a.SignInAsync(Tier3, onA.Browser);
        var page = await onA.LookupAsync(Bob);

        // Five wrong codes, alternating between the instances: the limit is one count, not one per instance.
        for (var i = 0; i < 5; i++)
        {
            var failed = await (i % 2 == 0 ? onA : onB).VerifyByTotpAsync(page, (200000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.StatusCode);
        }

        var right = await onB.VerifyByTotpAsync(page, _a.Emulator.State.CurrentTotp(Bob));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, right.StatusCode);
        Assert.Contains("cooling_down", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartedInstance_KeepsSessionsKeysAndAudit()
    {
        var cookies = new CookieContainer();
        var onA = new ConsoleDriver(_a, _a.NewClient(cookies));
        await _a.SignInAsync(Tier3, onA.Browser);
        var id = ConsoleDriver.VerificationId(await onA.VerifyByPushAsync(Alice));

        // B goes away and a new instance starts in its place: it has only what Firestore holds.
        await B.DisposeAsync();
        _b = new PortalTestHost(_a).UseFirestore(firestore.Host, _projectId);
        await _b.InitializeAsync();
        var onRestarted = new ConsoleDriver(B, B.NewClient(cookies));

        var console = await onRestarted.Browser.GetAsync("/console");
        var action = await onRestarted.ActAsync("revoke-sessions", id);
        var auditor = new ConsoleDriver(B, await B.SignInAsync("auditor@demo.example"));
        var audit = await auditor.GetPageAsync("/audit");

        Assert.Equal(HttpStatusCode.OK, console.StatusCode);
        Assert.Equal(HttpStatusCode.OK, action.StatusCode);
        Assert.Contains("verification.push.result", audit, StringComparison.Ordinal);
        Assert.Contains("action.sessions_revoke", audit, StringComparison.Ordinal);
    }
}
