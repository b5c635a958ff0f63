using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Portal.Storage.Sqlite;

namespace Portal.Storage.Tests;

public sealed class StorageSetupTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddPortalStorage(configuration).BuildServiceProvider();
    }

    [Fact]
    public async Task AddPortalStorage_SqlitePathInMissingFolder_CreatesFolderAndWorks()
    {
        var path = Path.Combine(_directory.Path, "nested", "deeper", "portal.db");
        using var services = Build(new() { ["Portal:Storage:Provider"] = "sqlite", ["Portal:Storage:Sqlite:Path"] = path });

        var store = services.GetRequiredService<IDocumentStore>();
        await store.SetAsync(new DocumentKey(new CollectionPath("things"), "a"), new() { ["x"] = 1 }, null);

        Assert.IsType<SqliteDocumentStore>(store);
        Assert.True(File.Exists(path));
        Assert.Same(store, services.GetServices<IExpiredDocumentPurge>().Single());
        Assert.Contains(services.GetServices<IHostedService>(), s => s is ExpiredDocumentPurger);
    }

    [Fact]
    public void AddPortalStorage_Settings_AreBound()
    {
        using var services = Build(new()
        {
            ["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory.Path, "x.db"),
            ["Portal:Storage:PurgeInterval"] = "00:05:00",
            ["Portal:Storage:Firestore:ProjectId"] = "demo-project",
            ["Portal:Storage:Firestore:EmulatorHost"] = "127.0.0.1:8080",
        });

        var options = services.GetRequiredService<IOptions<StorageOptions>>().Value;

        Assert.Equal(StorageProvider.Sqlite, options.Provider);
        Assert.Equal(Path.Combine(_directory.Path, "x.db"), options.Sqlite.Path);
        Assert.Equal(TimeSpan.FromMinutes(5), options.PurgeInterval);
        Assert.Equal("demo-project", options.Firestore.ProjectId);
        Assert.Equal("(default)", options.Firestore.DatabaseId);
        Assert.Equal("127.0.0.1:8080", options.Firestore.EmulatorHost);
    }

    [Fact]
    public void AddPortalStorage_EmptySqlitePath_FailsNamingTheSetting()
    {
        using var services = Build(new() { ["Portal:Storage:Sqlite:Path"] = "" });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("Portal:Storage:Sqlite:Path must be set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPortalStorage_PurgeIntervalTooShort_FailsNamingTheSetting()
    {
        using var services = Build(new() { ["Portal:Storage:PurgeInterval"] = "00:00:01" });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("Portal:Storage:PurgeInterval", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPortalStorage_UnknownProvider_FailsNamingTheSetting()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Build(new() { ["Portal:Storage:Provider"] = "Postgres" }));

        Assert.Contains("Portal:Storage:Provider", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPortalStorage_NoSettings_DefaultsToSqliteUnderPortalData()
    {
        var options = new StorageOptions();

        Assert.Equal(StorageProvider.Sqlite, options.Provider);
        Assert.Equal(".portal-data/portal.db", options.Sqlite.Path);
        Assert.Equal(TimeSpan.FromMinutes(15), options.PurgeInterval);
    }

    [Fact]
    public void StorageOptionsValidator_FirestoreWithoutProject_FailsNamingTheSetting()
    {
        var options = new StorageOptions { Provider = StorageProvider.Firestore };

        var result = new StorageOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Portal:Storage:Firestore:ProjectId must be set", result.FailureMessage, StringComparison.Ordinal);
    }
}
