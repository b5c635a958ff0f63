using System.Net;

namespace Portal.Web.Tests.Security;

/// <summary>docs/security-requirements.md S4: every POST route of the endpoint table refuses a request without an antiforgery token.</summary>
public sealed class CsrfTests(CsrfTests.Fixture fixture) : IClassFixture<CsrfTests.Fixture>
{
    /// <summary>What MVC's antiforgery filter logs when it refuses a request: a 400 for any other reason does not count.</summary>
    private const string AntiforgeryRefusal = "Antiforgery token validation failed";

    // One portal serves the class; each test counts refusals, audit records and IdP requests from where it began.
    private readonly PortalTestHost _host = fixture.Portal;

    [Fact]
    public async Task EveryPostRoute_WithoutAntiforgeryToken_Refused400AndNothingHappens()
    {
        // Between them these two agents hold every permission a POST route needs.
        var agents = new[] { await _host.SignInAsync(SecurityTestKit.Tier3), await _host.SignInAsync(SecurityTestKit.Admin) };
        var posts = SecurityTestKit.Routes(_host).Where(r => r.Method == "POST").ToList();
        Assert.Contains(posts, r => r.Template.Contains("actions/", StringComparison.Ordinal));
        Assert.Contains(posts, r => r.Template.Contains("account/signout", StringComparison.Ordinal));
        // Each agent's page once, so that the header's name look-up (a read, cached) is behind us before counting.
        foreach (var agent in agents)
        {
            using var page = await agent.GetAsync("/console");
        }

        var idpRequestsBefore = _host.Emulator.State.Requests.Count;
        var auditBefore = (await SecurityTestKit.AuditAsync(_host)).Where(d => (string?)d["action"] != "access.denied").Count();
        var failures = new List<string>();

        foreach (var route in posts)
        {
            var statuses = new List<HttpStatusCode>();
            foreach (var agent in agents)
            {
                var refusalsBefore = AntiforgeryRefusals();
                var response = await agent.PostAsync(route.SamplePath, new FormUrlEncodedContent(
                [
                    new("login", SecurityTestKit.Alice), new("verificationId", AppRoute.SampleId), new("callerRef", "x"), new("factorId", "x"), new("code", "123456"),
                ]));
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.BadRequest && AntiforgeryRefusals() != refusalsBefore + 1)
                {
                    failures.Add($"{route}: 400, but not from the antiforgery check");
                }
            }

            // 400 from the antiforgery filter for an agent who may use the route; 403 (before the filter) for one who may not.
            if (!statuses.All(s => s is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden) || !statuses.Contains(HttpStatusCode.BadRequest))
            {
                failures.Add($"{route}: {string.Join(", ", statuses.Select(s => (int)s))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        // Sign-out without a token did not sign out; no IdP call, no audit record beyond refusals.
        Assert.Equal(HttpStatusCode.OK, (await agents[0].GetAsync("/console")).StatusCode);
        Assert.Equal(idpRequestsBefore, _host.Emulator.State.Requests.Count);
        Assert.Equal(auditBefore, (await SecurityTestKit.AuditAsync(_host)).Where(d => (string?)d["action"] != "access.denied").Count());
    }

    [Fact]
    public async Task Post_WithAnotherAgentsToken_Refused()
    {
        var tier3 = await _host.SignInAsync(SecurityTestKit.Tier3);
        var other = await _host.SignInAsync(SecurityTestKit.Tier2);
        var othersToken = await SecurityTestKit.TokenAsync(other);
        var refusalsBefore = AntiforgeryRefusals();

        var response = await PortalTestHost.PostFormAsync(tier3, "/console/lookup", othersToken, ("login", SecurityTestKit.Alice));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(refusalsBefore + 1, AntiforgeryRefusals());
    }

    private int AntiforgeryRefusals() => _host.LogLines.Count(l => l.Contains(AntiforgeryRefusal, StringComparison.Ordinal));

    /// <summary>The class's portal, logging the antiforgery filter's refusals.</summary>
    public sealed class Fixture : PortalHostFixture
    {
        public Fixture() =>
            // The filter logs at Information, under a category the app's settings keep at Warning.
            Portal.Settings["Logging:LogLevel:Microsoft.AspNetCore.Mvc.ViewFeatures.Filters"] = "Information";
    }
}
