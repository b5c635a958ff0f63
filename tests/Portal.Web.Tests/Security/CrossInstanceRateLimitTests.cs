using System.Globalization;
using System.Net;
using Portal.Storage;
using Portal.Web.Agents;

namespace Portal.Web.Tests.Security;

/// <summary>
/// docs/security-requirements.md A5: the limit on the routes that reach the IdP holds across instances. One agent
/// sends look-ups in parallel through two portal instances on one Firestore; the number served is the limit, not
/// the limit times the number of instances.
/// </summary>
[Collection(FirestoreCollection.Name)]
public sealed class CrossInstanceRateLimitTests(FirestoreEmulatorProcess firestore) : IAsyncLifetime
{
    private const string Alice = "alice.caller@demo.example";
    private const int Limit = 6;

    private readonly string _projectId = FirestoreEmulatorProcess.NewProjectId();
    private readonly PortalTestHost _a = new();
    private PortalTestHost? _b;

    private PortalTestHost B => _b!;

    public async Task InitializeAsync()
    {
        Configure(_a);
        await _a.UseFirestore(firestore.Host, _projectId).InitializeAsync();
        _b = new PortalTestHost(_a).UseFirestore(firestore.Host, _projectId);
        Configure(_b);
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
    public async Task ParallelLookups_OneAgentTwoInstances_NoMoreThanTheLimitServed()
    {
        var cookies = new CookieContainer();
        var onA = _a.NewClient(cookies);
        var onB = B.NewClient(cookies);
        await _a.SignInAsync(SecurityTestKit.Tier3, onA);
        var token = await SecurityTestKit.TokenAsync(onA);

        var responses = await Task.WhenAll(Enumerable.Range(0, Limit * 4).Select(i =>
            PortalTestHost.PostFormAsync(i % 2 == 0 ? onA : onB, "/console/lookup", token, ("login", Alice))));

        Assert.Equal(Limit, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(Limit * 3, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests), r => Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero));

        // Both instances refuse now, each from the one window in the store; another agent is not affected.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PortalTestHost.PostFormAsync(onB, "/console/lookup", token, ("login", Alice))).StatusCode);
        var other = await B.SignInAsync(SecurityTestKit.Tier2);
        Assert.Equal(HttpStatusCode.OK, (await PortalTestHost.PostFormAsync(other, "/console/lookup", await SecurityTestKit.TokenAsync(other), ("login", Alice))).StatusCode);

        // The stored window names no one: its id is a hash of the agent's subject, its fields a time and a count.
        var windows = await _a.Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(PortalTestHost.TenantId, IdpRouteLimit.Collection))).ToListAsync();
        Assert.Equal(2, windows.Count);
        Assert.Contains(windows, w => w.Data["used"]?.GetValue<int>() == Limit);
        Assert.All(windows, w => Assert.Equal(["endsAt", "used"], w.Data.Select(p => p.Key).Order(StringComparer.Ordinal)));
        Assert.All(windows, w => Assert.Matches("^[0-9a-f]{64}$", w.Key.Id));
    }

    private static void Configure(PortalTestHost host)
    {
        host.Settings["Portal:Web:RateLimits:SensitivePermitLimit"] = Limit.ToString(CultureInfo.InvariantCulture);
        host.Settings["Portal:Web:RateLimits:AgentPermitLimit"] = "1000";
        host.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = "5000";
        host.Settings["Portal:Web:RateLimits:WindowSeconds"] = "3600";
    }
}
