using Microsoft.Extensions.DependencyInjection;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>Settings changed after they seeded a tenant: applied, or reported when the console changed them too (docs/tenancy.md).</summary>
public sealed class TenantSeedTests
{
    private static TenantSettings Settings(string tier1Maps) => new()
    {
        Id = "acme",
        GroupTiers = new Dictionary<string, string> { ["Helpdesk Tier 1"] = tier1Maps },
        IpAllowList = ["203.0.113.0/24"],
    };

    [Fact]
    public void SettingChanged_ConsoleUntouched_IsApplied()
    {
        var stored = TenantSeedReconciliation.Seed(Settings("Tier 1"));

        var (updated, outcomes) = TenantSeedReconciliation.Reconcile("acme", stored, TenantSeedReconciliation.Seed(Settings("Tier 2")));

        Assert.Equal(new TenantSeedReconciliation.Outcome("acme", "GroupTiers", true), Assert.Single(outcomes));
        Assert.Equal("Tier 2", Assert.Single(updated!.GroupTiers).Tier);
        Assert.Equal(stored.Revision + 1, updated.Revision);
        Assert.Equal(["203.0.113.0/24"], updated.IpAllowList);
    }

    [Fact]
    public void SettingChanged_ConsoleChangedItToo_IsKeptAndReportedEveryTime()
    {
        var stored = TenantSeedReconciliation.Seed(Settings("Tier 1"));
        stored.GroupTiers[0].Tier = "Tier 3";

        var (updated, outcomes) = TenantSeedReconciliation.Reconcile("acme", stored, TenantSeedReconciliation.Seed(Settings("Tier 2")));

        Assert.Equal(new TenantSeedReconciliation.Outcome("acme", "GroupTiers", false), Assert.Single(outcomes));
        Assert.Null(updated);
    }

    [Fact]
    public void NothingChanged_NothingWrittenNorReported()
    {
        var stored = TenantSeedReconciliation.Seed(Settings("Tier 1"));
        stored.IpAllowList = ["198.51.100.0/24"];

        var (updated, outcomes) = TenantSeedReconciliation.Reconcile("acme", stored, TenantSeedReconciliation.Seed(Settings("Tier 1")));

        Assert.Null(updated);
        Assert.Empty(outcomes);
    }

    [Fact]
    public async Task Restart_WithChangedGroupTiers_ServesTheNewMapping_AndSaysSo()
    {
        await using var first = new Started(new PortalTestHost());
        await first.Host.InitializeAsync();
        Assert.Equal("Tier 1", Catalog(first.Host).Find(PortalTestHost.TenantId)!.GroupTiers["Helpdesk Tier 1"]);

        var second = new PortalTestHost(first.Host);
        second.Settings["Portal:Storage:Sqlite:Path"] = Path.Combine(first.Host.DataDirectory, "portal.db");
        second.Settings["Portal:Tenants:0:GroupTiers:Helpdesk Tier 1"] = "Tier 2";
        await using var restarted = new Started(second);
        await second.InitializeAsync();

        Assert.Equal("Tier 2", Catalog(second).Find(PortalTestHost.TenantId)!.GroupTiers["Helpdesk Tier 1"]);
        Assert.Contains(second.LogLines, l => l.Contains("Portal:Tenants:0:GroupTiers changed since it seeded the tenant", StringComparison.Ordinal));
    }

    private static ITenantCatalog Catalog(PortalTestHost host) => host.Factory.Services.GetRequiredService<ITenantCatalog>();

    private sealed class Started(PortalTestHost host) : IAsyncDisposable
    {
        public PortalTestHost Host => host;

        public async ValueTask DisposeAsync() => await host.DisposeAsync();
    }
}
