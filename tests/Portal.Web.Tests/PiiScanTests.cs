using System.Text.Json.Nodes;
using Portal.Storage;
using Xunit.Sdk;

namespace Portal.Web.Tests;

/// <summary>The suite-wide PII scan (run when every test's portal shuts down) does find a leak.</summary>
public sealed class PiiScanTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new() { PlantsLeaksOnPurpose = true };

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Theory]
    [InlineData("store", "alice.caller@demo.example")]
    [InlineData("store", "someone.else@customer.example")]
    [InlineData("log", "Bob Caller")]
    [InlineData("log", "+44 20 7946 0958")]
    [InlineData("store", "YWxpY2UuY2FsbGVyQGRlbW8uZXhhbXBsZQ==")]
    [InlineData("log", "YWxpY2UuY2FsbGVyQGRlbW8uZXhhbXBsZQ")]
    [InlineData("store", "alice.caller%40demo.example")]
    [InlineData("log", "login=bob.caller%40demo.example")]
    [InlineData("store", "Frank")]
    [InlineData("log", "reset for Grace.")]
    [InlineData("store", "(415) 555-0132")]
    [InlineData("log", "415-555-0132")]
    [InlineData("store", "020 7946 0958")]
    public async Task Scan_PlantedIdentityData_Fails(string where, string planted)
    {
        var key = new DocumentKey(CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"), "planted");
        var store = where == "store";
        if (store)
        {
            await _host.Store.SetAsync(key, new JsonObject { ["note"] = planted }, expireAt: null);
        }
        else
        {
            _host.LogLines.Enqueue("Information Test planted " + planted);
        }

        await Assert.ThrowsAnyAsync<XunitException>(() =>
            PiiScan.AssertCleanAsync(_host.Store, [PortalTestHost.TenantId], _host.DataDirectory, _host.LogLines, _host.Emulator.State));
    }
}
