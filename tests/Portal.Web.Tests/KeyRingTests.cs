using System.Net;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>The Data Protection key ring is kept in the store, and only encrypted.</summary>
public sealed class KeyRingTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task KeyRing_IsInTheStore_EncryptedUnderTheKeyRingKey()
    {
        // Rendering a form creates the key ring (the antiforgery token needs a key).
        var page = await _host.NewClient().GetAsync("/account/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        var keys = new List<string>();
        await foreach (var doc in _host.Store.QueryAsync(new DocumentQuery(new CollectionPath("dataProtectionKeys"))))
        {
            keys.Add(doc.Data.ToJsonString());
        }

        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("portalEncryptedKey", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("masterKey", xml, StringComparison.Ordinal);
        });
    }
}
