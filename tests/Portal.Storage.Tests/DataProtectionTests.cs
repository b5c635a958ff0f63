using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage.DataProtection;

namespace Portal.Storage.Tests;

public sealed class DataProtectionTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private ServiceProvider BuildInstance()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory.Path, "portal.db") })
            .Build();
        var services = new ServiceCollection();
        services.AddPortalStorage(configuration);
        services.AddDataProtection().SetApplicationName("portal").PersistKeysToPortalStore();
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task PersistKeysToPortalStore_TwoInstances_ShareTheKeyRing()
    {
        using var first = BuildInstance();
        using var second = BuildInstance();

        var protectedText = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("secret payload");
        var unprotected = second.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(protectedText);

        Assert.Equal("secret payload", unprotected);
        var store = first.GetRequiredService<IDocumentStore>();
        var keys = new List<StoredDocument>();
        await foreach (var document in store.QueryAsync(new DocumentQuery(new CollectionPath("dataProtectionKeys"))))
        {
            keys.Add(document);
        }

        var key = Assert.Single(keys);
        Assert.StartsWith("<key ", key.Data["xml"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(key.ExpireAt);
    }

    [Fact]
    public async Task StoreElement_ThenGetAll_ReturnsEveryElement()
    {
        using var services = BuildInstance();
        var repository = new DocumentStoreXmlRepository(services.GetRequiredService<IDocumentStore>());
        var key = new XElement("key", new XAttribute("id", "8f2b1c3e-0000-4000-8000-000000000001"), new XElement("value", "k1 \"quoted\" ü"));
        var revocation = new XElement("revocation", new XElement("revokeAll"));

        repository.StoreElement(key, "key-8f2b1c3e-0000-4000-8000-000000000001");
        repository.StoreElement(revocation, "revocation-20261123");
        repository.StoreElement(new XElement(revocation), "revocation-20261123");

        var all = repository.GetAllElements();
        Assert.Equal(3, all.Count);
        Assert.Contains(all, e => XNode.DeepEquals(e, key));
        Assert.Equal(2, all.Count(e => XNode.DeepEquals(e, revocation)));
        Assert.NotNull(await services.GetRequiredService<IDocumentStore>().GetAsync(new DocumentKey(DocumentStoreXmlRepository.Collection, "8f2b1c3e-0000-4000-8000-000000000001")));
    }

    [Theory]
    [InlineData("key/../../etc", "key_.._.._etc")]
    [InlineData("a b:c", "a_b_c")]
    public void DocumentId_IdAttribute_IsSanitised(string id, string expected)
    {
        var element = new XElement("key", new XAttribute("id", id));

        Assert.Equal(expected, DocumentStoreXmlRepository.DocumentId(element, null));
    }

    [Fact]
    public void DocumentId_NoIdAttribute_UsesSanitisedFriendlyNameAndStaysUnique()
    {
        var element = new XElement("revocation");

        var first = DocumentStoreXmlRepository.DocumentId(element, "revocation 2026/11/23");
        var second = DocumentStoreXmlRepository.DocumentId(element, "revocation 2026/11/23");

        Assert.StartsWith("revocation_2026_11_23-", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.Matches("^[A-Za-z0-9_.-]{1,200}$", first);
    }

    [Fact]
    public async Task GetAllElements_StoredXmlWithDtd_IsRefused()
    {
        using var services = BuildInstance();
        var store = services.GetRequiredService<IDocumentStore>();
        const string Hostile = "<!DOCTYPE key [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><key id=\"k\">&x;</key>";
        await store.SetAsync(new DocumentKey(DocumentStoreXmlRepository.Collection, "k"), new JsonObject { ["xml"] = Hostile }, null);
        var repository = new DocumentStoreXmlRepository(store);

        Assert.ThrowsAny<System.Xml.XmlException>(() => repository.GetAllElements());
    }
}
