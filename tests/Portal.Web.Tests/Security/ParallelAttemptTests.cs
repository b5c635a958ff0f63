using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;
using Portal.Web.Verification;

namespace Portal.Web.Tests.Security;

/// <summary>
/// Finding F1 (docs/security-requirements.md V4): wrong TOTP codes sent in parallel, by two agents through two
/// portal instances on one Firestore, never get more codes to the IdP than the caller's policy allows. What
/// counts is what reached the emulator, not what the portal says.
/// </summary>
[Collection(FirestoreCollection.Name)]
public sealed class ParallelAttemptTests(FirestoreEmulatorProcess firestore) : IAsyncLifetime
{
    private const string Bob = "bob.caller@demo.example";
    private const int Parallel = 50;
    private const int MaxFailuresBeforeCooldown = 5;

    private readonly string _projectId = FirestoreEmulatorProcess.NewProjectId();
    private readonly PortalTestHost _a = new();
    private PortalTestHost? _b;

    private PortalTestHost B => _b!;

    public async Task InitializeAsync()
    {
        // Generous request limits: this is about the caller's failure budget, not about request floods.
        foreach (var (key, value) in Limits())
        {
            _a.Settings[key] = value;
        }

        await _a.UseFirestore(firestore.Host, _projectId).InitializeAsync();
        _b = new PortalTestHost(_a).UseFirestore(firestore.Host, _projectId);
        foreach (var (key, value) in Limits())
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
    public async Task FiftyParallelWrongCodes_TwoAgentsTwoInstances_NoMoreThanThePolicyReachTheIdp()
    {
        var senders = await SendersAsync();
        var before = TotpChecksAtIdp();

        var responses = await Task.WhenAll(Enumerable.Range(0, Parallel).Select(i =>
            senders[i % senders.Count].VerifyByTotpAsync(senders[i % senders.Count].Page, WrongCode(i))));

        var reached = TotpChecksAtIdp() - before;
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode));
        Assert.InRange(reached, 1, MaxFailuresBeforeCooldown);
        Assert.Equal(reached, bodies.Count(b => b.Contains("wrong_code", StringComparison.Ordinal)));
        Assert.Equal(Parallel - reached, bodies.Count(b => b.Contains("cooling_down", StringComparison.Ordinal)));

        var audit = await AuditOfBobAsync("verification.totp");
        Assert.Equal(reached, audit.Count(r => r.Outcome == AuditOutcome.Failed && r.Reason == "wrong_code"));
        Assert.Equal(Parallel - reached, audit.Count(r => r.Outcome == AuditOutcome.Denied && r.Reason == "cooling_down"));
    }

    [Fact]
    public async Task ParallelWrongCodes_NearTheHundredCap_NoMoreThanTheRestReachTheIdp()
    {
        var senders = await SendersAsync();

        // 98 failures on record: only two more may ever reach the IdP, however many race for them.
        var idHash = _a.Factory.Services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(PortalTestHost.TenantId, _a.Emulator.State.FindCaller(Bob)!.Id);
        await _a.Store.SetAsync(
            new DocumentKey(CollectionPath.ForTenant(PortalTestHost.TenantId, "callerCounters"), idHash),
            DocumentJson.ToDocument(new CallerCounters { TotalFailures = VerificationStore.MaxTotalFailures - 2 }),
            _a.Clock.GetUtcNow().AddDays(1));
        var before = TotpChecksAtIdp();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            senders[i % senders.Count].VerifyByTotpAsync(senders[i % senders.Count].Page, WrongCode(i))));

        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Equal(2, TotpChecksAtIdp() - before);
        Assert.Equal(18, bodies.Count(b => b.Contains("failure_limit", StringComparison.Ordinal)));
    }

    private static IEnumerable<(string Key, string Value)> Limits() =>
    [
        ("Portal:Web:RateLimits:SensitivePermitLimit", "1000"),
        ("Portal:Web:RateLimits:AgentPermitLimit", "1000"),
        ("Portal:Web:RateLimits:AddressPermitLimit", "5000"),
        ("Portal:Tenants:0:Verification:MaxFailuresBeforeCooldown", MaxFailuresBeforeCooldown.ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>Two agents, each signed in once and using both instances with the same cookies.</summary>
    private async Task<List<Sender>> SendersAsync()
    {
        var senders = new List<Sender>();
        foreach (var agent in new[] { "tier3.agent@demo.example", "tier1.agent@demo.example" })
        {
            var cookies = new CookieContainer();
            var onA = new ConsoleDriver(_a, _a.NewClient(cookies));
            var onB = new ConsoleDriver(B, B.NewClient(cookies));
            await _a.SignInAsync(agent, onA.Browser);
            var page = await onA.LookupAsync(Bob);
            senders.Add(new Sender(onA, page));
            senders.Add(new Sender(onB, page));
        }

        return senders;
    }

    /// <summary>Distinct codes, none of them Bob's current one: each is a real wrong guess, never a replay.</summary>
    private string WrongCode(int i)
    {
        var right = _a.Emulator.State.CurrentTotp(Bob);
        var code = (100000 + (i * 7919)).ToString(CultureInfo.InvariantCulture);
        return code == right ? (100001 + (i * 7919)).ToString(CultureInfo.InvariantCulture) : code;
    }

    private int TotpChecksAtIdp()
    {
        var bob = _a.Emulator.State.FindCaller(Bob)!;
        return _a.Emulator.State.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.Contains($"/users/{bob.Id}/factors/", StringComparison.Ordinal) && r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal));
    }

    private async Task<List<AuditRecord>> AuditOfBobAsync(string action)
    {
        var trail = _a.Factory.Services.GetRequiredService<IAuditTrail>();
        var records = new List<AuditRecord>();
        string? cursor = null;
        do
        {
            var page = await trail.QueryAsync(PortalTestHost.TenantId, new AuditQuery { Action = action, PageSize = 200, Cursor = cursor });
            records.AddRange(page.Records);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return records;
    }

    private sealed record Sender(ConsoleDriver Driver, string Page)
    {
        public Task<HttpResponseMessage> VerifyByTotpAsync(string page, string code) => Driver.VerifyByTotpAsync(page, code);
    }
}
