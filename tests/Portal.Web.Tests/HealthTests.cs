using System.Net;

namespace Portal.Web.Tests;

/// <summary>The probes Cloud Run calls, and a store that does not answer at start-up.</summary>
public sealed class HealthTests(HealthTests.Fixture fixture) : IClassFixture<HealthTests.Fixture>
{
    // One portal serves the probes' tests; the start-up failure builds a portal of its own.
    private readonly PortalTestHost _host = fixture.Portal;

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Probes_AnswerHealthy_OnAnyHostAndPlainHttp(string path)
    {
        var probe = _host.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("http://localhost") });
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "169.254.8.1:8080";

        var response = await probe.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Healthz_IsGone()
    {
        var response = await _host.NewClient().GetAsync("/healthz");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("Healthy", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableStoreAtStart_IsRetried_ThenFailsNamingTheSettings()
    {
        var host = new PortalTestHost { PlantsLeaksOnPurpose = true };
        host.UseFirestore("127.0.0.1:9", "portal-unreachable");
        // Long enough for several attempts (0, 0.5, 1.5, 3.5 s) even on a loaded machine: the test counts retries.
        host.Settings["Portal:Tenancy:StartupStoreTimeoutSeconds"] = "6";
        try
        {
            var failure = await Record.ExceptionAsync(host.InitializeAsync);

            Assert.NotNull(failure);
            var message = failure.ToString();
            Assert.Contains("The store could not be reached at start-up", message, StringComparison.Ordinal);
            Assert.Contains("Portal:Storage:Firestore:ProjectId", message, StringComparison.Ordinal);
            Assert.True(host.LogLines.Count(l => l.Contains("The store did not answer at start-up", StringComparison.Ordinal)) >= 2, "Retried with backoff before failing.");
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>The class's portal, with a public origin (the probes answer on any host all the same).</summary>
    public sealed class Fixture : PortalHostFixture
    {
        public Fixture() => Portal.Settings["Portal:Web:PublicBaseUrl"] = "https://localhost";
    }
}
