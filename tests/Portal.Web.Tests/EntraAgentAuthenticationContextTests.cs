using System.Net;

namespace Portal.Web.Tests;

/// <summary>
/// Entra's v2.0 ID tokens carry no <c>amr</c>: a tenant proves agent MFA with a Conditional Access
/// authentication context instead. Here <c>amr</c> can never satisfy the tenant, so only <c>acrs</c> can.
/// </summary>
public sealed class EntraAgentAuthenticationContextTests : IAsyncLifetime
{
    private readonly StepUpTestHost _host = new()
    {
        ExtraSettings = _ => new()
        {
            [$"Portal:Tenants:1:AgentSignIn:RequiredAmr:0"] = "no-such-amr",
            [$"Portal:Tenants:1:AgentSignIn:RequiredAcrs:0"] = "c2",
        },
    };

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task AgentWithMfa_GetsTheAuthenticationContext_SignsIn()
    {
        var agent = await _host.SignInEntraAsync("tier3.agent@entra.example");

        var console = await agent.GetAsync("/console");

        Assert.Equal(HttpStatusCode.OK, console.StatusCode);
        Assert.Contains(await _host.AuditAsync(StepUpTestHost.EntraTenant), d => (string?)d["action"] == "agent.signin" && (string?)d["outcome"] == "succeeded");
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
        Assert.Contains(await _host.AuditAsync(StepUpTestHost.EntraTenant), d => (string?)d["action"] == "agent.signin" && (string?)d["reason"] == "agent_mfa_missing");
    }
}
