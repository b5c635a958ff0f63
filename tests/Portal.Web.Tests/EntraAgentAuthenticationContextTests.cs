using System.Net;

namespace Portal.Web.Tests;

/// <summary>
/// Entra's v2.0 ID tokens carry no <c>amr</c>: a tenant proves agent MFA with a Conditional Access
/// authentication context instead. Here <c>amr</c> can never satisfy the tenant, so only <c>acrs</c> can.
/// </summary>
public sealed class EntraAgentAuthenticationContextTests(EntraAgentAuthenticationContextTests.Fixture fixture)
    : IClassFixture<EntraAgentAuthenticationContextTests.Fixture>, IAsyncLifetime
{
    // One portal serves the class; each test reads only the Entra tenant's audit records written while it ran.
    private readonly StepUpTestHost _host = fixture.Portal;
    private StoreMark? _mark;

    public async Task InitializeAsync() => _mark = await StoreMark.TakeAsync(_host.Store, EntraAudit);

    public Task DisposeAsync() => Task.CompletedTask;

    private static Portal.Storage.CollectionPath EntraAudit => Portal.Storage.CollectionPath.ForTenant(StepUpTestHost.EntraTenant, "audit");

    [Fact]
    public async Task AgentWithMfa_GetsTheAuthenticationContext_SignsIn()
    {
        var agent = await _host.SignInEntraAsync("tier3.agent@entra.example");

        var console = await agent.GetAsync("/console");

        Assert.Equal(HttpStatusCode.OK, console.StatusCode);
        Assert.Contains((await _mark!.SinceAsync(EntraAudit)).Select(d => d.Data), d => (string?)d["action"] == "agent.signin" && (string?)d["outcome"] == "succeeded");
    }

    [Fact]
    public async Task AgentWithoutMfa_GetsNoAuthenticationContext_Refused()
    {
        var client = _host.NewClient();
        var challenge = await client.GetAsync($"/account/signin/{StepUpTestHost.EntraTenant}");
        var authorize = challenge.Headers.Location!;
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = _host.Emulator.State.EntraAgents.Single(a => a.UserPrincipalName == "nomfa.agent@entra.example").ObjectId;
        using var idp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await idp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(form));

        var signedIn = await client.GetAsync(picked.Headers.Location!.PathAndQuery);

        Assert.Contains("claims", authorize.Query, StringComparison.Ordinal);
        Assert.Contains("failed", signedIn.Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
        Assert.Contains((await _mark!.SinceAsync(EntraAudit)).Select(d => d.Data), d => (string?)d["action"] == "agent.signin" && (string?)d["reason"] == "agent_mfa_missing");
    }

    /// <summary>The class's portal: an Entra tenant whose agents must bring an authentication context (amr never does).</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public StepUpTestHost Portal { get; } = new()
        {
            ExtraSettings = _ => new()
            {
                [$"Portal:Tenants:1:AgentSignIn:RequiredAmr:0"] = "no-such-amr",
                [$"Portal:Tenants:1:AgentSignIn:RequiredAcrs:0"] = "c2",
            },
        };

        public Task InitializeAsync() => Portal.InitializeAsync();

        public Task DisposeAsync() => Portal.DisposeAsync();
    }
}
