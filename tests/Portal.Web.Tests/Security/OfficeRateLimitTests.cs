using System.Globalization;
using System.Net;

namespace Portal.Web.Tests.Security;

/// <summary>
/// docs/security-requirements.md A5 as a helpdesk office meets it: its agents share one public address. Signed-in
/// requests count against their own agent only, so the office together goes far past the address limit without a
/// refusal, while one agent flooding is refused at its own limit and anonymous requests still meet the address's.
/// The limits are scaled down (5 agents, 25 per address, 30 per agent) so the test stays small; the rule is the same
/// for 150 agents polling a push every 2 s behind one address.
/// </summary>
public sealed class OfficeRateLimitTests : IAsyncLifetime
{
    private const int AddressLimit = 25;
    private const int AgentLimit = 30;
    private const int RequestsPerAgent = 25;
    private readonly PortalTestHost _host = new();

    public OfficeRateLimitTests()
    {
        _host.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = AddressLimit.ToString(CultureInfo.InvariantCulture);
        _host.Settings["Portal:Web:RateLimits:AgentPermitLimit"] = AgentLimit.ToString(CultureInfo.InvariantCulture);
        _host.Settings["Portal:Web:RateLimits:SensitivePermitLimit"] = "1000";
        _host.Settings["Portal:Web:RateLimits:WindowSeconds"] = "3600";
    }

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task AgentsBehindOneAddress_TogetherPastTheAddressLimit_NotLimited_OneAgentFlooding_Is()
    {
        // Every test-server request comes from the same (unknown) client address: one office.
        var office = new List<HttpClient>();
        foreach (var agent in new[] { SecurityTestKit.Tier1, SecurityTestKit.Tier2, SecurityTestKit.Tier3, SecurityTestKit.Auditor, SecurityTestKit.Admin })
        {
            office.Add(await _host.SignInAsync(agent));
        }

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < RequestsPerAgent; i++)
        {
            foreach (var browser in office)
            {
                statuses.Add((await browser.GetAsync("/")).StatusCode);
            }
        }

        // 125 signed-in requests from one address with a limit of 25: every one served (each agent's home page,
        // or its redirect to the agent's own start page).
        Assert.Equal(office.Count * RequestsPerAgent, statuses.Count);
        Assert.All(statuses, s => Assert.True((int)s < 400, $"got {(int)s}"));

        // One agent flooding meets its own limit within the few requests it has left ...
        var flooder = office[2];
        var flood = new List<HttpStatusCode>();
        for (var i = 0; i <= AgentLimit && (flood.Count == 0 || flood[^1] != HttpStatusCode.TooManyRequests); i++)
        {
            flood.Add((await flooder.GetAsync("/")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, flood[^1]);
        Assert.All(flood.SkipLast(1), s => Assert.True((int)s < 400, $"got {(int)s}"));
        Assert.True(flood.Count <= AgentLimit - RequestsPerAgent + 1, $"the flooding agent was served {flood.Count - 1} more requests");

        // ... and the rest of the office is not held back by it.
        Assert.True((int)(await office[0].GetAsync("/")).StatusCode < 400);
        Assert.True((int)(await office[4].GetAsync("/")).StatusCode < 400);

        // Anonymous requests from the office's address still count against the address: the sign-ins' few and these.
        var anonymous = _host.NewClient();
        var served = 0;
        HttpStatusCode last;
        while ((last = (await anonymous.GetAsync("/account/signin")).StatusCode) == HttpStatusCode.OK && served <= AddressLimit)
        {
            served++;
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        Assert.InRange(served, 1, AddressLimit - 1);
    }
}
