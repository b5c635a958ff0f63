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

    /// <summary>
    /// A document written before the recovery switches and the executive groups were editable holds neither: the tenant is
    /// served the configured values, and the next start-up stores them without a word (nothing the tenant sees changes).
    /// </summary>
    [Fact]
    public void DocumentWithoutTheRecoveryOrExecutiveSections_ServesAndSeedsTheConfiguredValues()
    {
        var configured = Settings("Tier 1");
        configured.Recovery.CallBack = true;
        configured.Recovery.Notices.Smtp.Host = "smtp.example.com";
        configured.ExecutiveTargets.Groups = ["Executives"];
        var stored = TenantSeedReconciliation.Seed(configured);
        stored.Recovery = null;
        stored.ExecutiveTargets = null;
        stored.SeedHashes.Remove("Recovery");
        stored.SeedHashes.Remove("ExecutiveTargets");

        var served = stored.Copy().ApplyTo(configured);
        var (updated, outcomes) = TenantSeedReconciliation.Reconcile("acme", stored, TenantSeedReconciliation.Seed(configured));

        Assert.True(served.Recovery.CallBack);
        Assert.Equal(["Executives"], served.ExecutiveTargets.Groups);
        Assert.Empty(outcomes);
        Assert.True(updated!.Recovery!.CallBack);
        Assert.Equal(["Executives"], updated.ExecutiveTargets!.Groups);
        Assert.Equal(stored.Revision, updated.Revision);
        Assert.Equal("smtp.example.com", updated.ApplyTo(configured).Recovery.Notices.Smtp.Host);
    }

    /// <summary>The console turned the call-back off; configuration later turns manager approval on: the console's switches stay, and start-up says so.</summary>
    [Fact]
    public void RecoveryChangedInConfiguration_ConsoleChangedItToo_ConsolesSwitchesKept()
    {
        var configured = Settings("Tier 1");
        configured.Recovery.CallBack = true;
        var stored = TenantSeedReconciliation.Seed(configured);
        stored.Recovery!.CallBack = false;
        configured.Recovery.ManagerApproval = true;

        var (updated, outcomes) = TenantSeedReconciliation.Reconcile("acme", stored, TenantSeedReconciliation.Seed(configured));

        Assert.Equal(new TenantSeedReconciliation.Outcome("acme", "Recovery", false), Assert.Single(outcomes));
        Assert.Null(updated);
        Assert.False(stored.ApplyTo(configured).Recovery.CallBack);
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
