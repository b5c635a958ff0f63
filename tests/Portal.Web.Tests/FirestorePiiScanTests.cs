using System.Text.Json.Nodes;
using Portal.Storage;
using Xunit.Sdk;

namespace Portal.Web.Tests;

/// <summary>
/// On Firestore the suite-wide PII scan lists every collection the emulator holds, as it does the SQLite files, so a
/// leak into a collection no one listed is found too.
/// </summary>
[Collection(FirestoreCollection.Name)]
public sealed class FirestorePiiScanTests(FirestoreEmulatorProcess firestore) : IAsyncLifetime
{
    private readonly PortalTestHost _host = new() { PlantsLeaksOnPurpose = true };

    public Task InitializeAsync() => _host.UseFirestore(firestore.Host, FirestoreEmulatorProcess.NewProjectId()).InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Theory]
    [InlineData("tenants/demo-okta/notListedAnywhere")]
    [InlineData("aTopLevelCollectionNoOneListed")]
    [InlineData("tenants/a-tenant-not-configured/audit")]
    public async Task Scan_LeakIntoACollectionNoOneListed_Fails(string collection)
    {
        // Clean before the plant: the scan itself passes on what the portal wrote.
        await PiiScan.AssertCleanAsync(_host.Store, [PortalTestHost.TenantId], null, [], _host.Emulator.State, _host.FirestoreUnderScan());

        await _host.Store.SetAsync(new DocumentKey(new CollectionPath(collection), "planted"), new JsonObject { ["note"] = "alice.caller@demo.example" }, expireAt: null);

        await Assert.ThrowsAnyAsync<XunitException>(() =>
            PiiScan.AssertCleanAsync(_host.Store, [PortalTestHost.TenantId], null, [], _host.Emulator.State, _host.FirestoreUnderScan()));
    }
}
