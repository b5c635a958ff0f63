using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests.Security;

/// <summary>
/// An organisation removed from the portal's settings takes its agents' sessions with it: a signed-in agent's cookie
/// stops working at its next request, and that session is ended in the store, so the same cookie is still worthless if
/// the organisation is configured again (docs/security-requirements.md S3).
/// </summary>
public sealed class RemovedTenantTests : IAsyncLifetime
{
    private readonly RemovableTenants _tenants = new();
    private readonly PortalTestHost _host;

    public RemovedTenantTests()
    {
        _host = new PortalTestHost
        {
            ConfigureServices = services => services.AddSingleton<ITenantCatalog>(sp => _tenants.Over(sp.GetRequiredService<TenantCatalog>())),
        };
    }

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task TenantRemoved_AgentSignedOutAtOnce_AndTheCookieStaysWorthlessWhenTheTenantReturns()
    {
        var jar = new CookieContainer();
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3, _host.NewClient(jar));
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/console")).StatusCode);
        var copied = jar.GetAllCookies();

        _tenants.Remove(PortalTestHost.TenantId);
        Assert.True(SecurityTestKit.IsSignInChallenge(await agent.GetAsync("/console")));

        _tenants.Restore(PortalTestHost.TenantId);
        var copy = new CookieContainer();
        copy.Add(copied);
        Assert.True(SecurityTestKit.IsSignInChallenge(await _host.NewClient(copy).GetAsync("/console")));

        // Another agent of the organisation, signed in after it returned, works as before.
        var again = await _host.SignInAsync(SecurityTestKit.Tier3);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/console")).StatusCode);
    }

    /// <summary>The portal's tenants with some of them hidden, as after a deployment without them.</summary>
    private sealed class RemovableTenants
    {
        private readonly HashSet<string> _removed = [];

        public void Remove(string tenantId)
        {
            lock (_removed)
            {
                _removed.Add(tenantId);
            }
        }

        public void Restore(string tenantId)
        {
            lock (_removed)
            {
                _removed.Remove(tenantId);
            }
        }

        public ITenantCatalog Over(ITenantCatalog catalog) => new Catalog(catalog, this);

        private bool IsRemoved(string tenantId)
        {
            lock (_removed)
            {
                return _removed.Contains(tenantId);
            }
        }

        private sealed class Catalog(ITenantCatalog inner, RemovableTenants tenants) : ITenantCatalog
        {
            public IReadOnlyList<TenantSettings> All => [.. inner.All.Where(t => !tenants.IsRemoved(t.Id))];

            public TenantSettings? Find(string tenantId) => tenants.IsRemoved(tenantId) ? null : inner.Find(tenantId);

            public TenantSettings? FindByEmailDomain(string domain) => inner.FindByEmailDomain(domain) is { } t && !tenants.IsRemoved(t.Id) ? t : null;
        }
    }
}
