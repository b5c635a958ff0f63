using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Portal.Storage.Sqlite;

namespace Portal.Storage;

/// <summary>The storage project's entry point: the configured <see cref="IDocumentStore"/> and its purge job.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="IDocumentStore"/> chosen by <c>Portal:Storage:Provider</c> (Sqlite by default,
    /// or Firestore), validated at start-up, and a background job that deletes expired documents.
    /// </summary>
    public static IServiceCollection AddPortalStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(StorageOptions.Section);
        services.AddOptions<StorageOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // The backend decides which services exist, so it is read now rather than when the store is resolved.
        var provider = ReadProvider(section);
        switch (provider)
        {
            case StorageProvider.Firestore:
                AddFirestore(services);
                break;
            default:
                AddSqlite(services);
                break;
        }

        services.AddLogging();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ExpiredDocumentPurger>());
        return services;
    }

    private static StorageProvider ReadProvider(IConfigurationSection section)
    {
        var value = section[nameof(StorageOptions.Provider)];
        if (string.IsNullOrWhiteSpace(value))
        {
            return StorageProvider.Sqlite;
        }

        return Enum.TryParse<StorageProvider>(value, ignoreCase: true, out var provider) && Enum.IsDefined(provider)
            ? provider
            : throw new InvalidOperationException("Portal:Storage:Provider must be Sqlite or Firestore.");
    }

    private static void AddSqlite(IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var path = Path.GetFullPath(options.Sqlite.Path);
            var directory = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            return new SqliteDocumentStore(path, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<IDocumentStore>(sp => sp.GetRequiredService<SqliteDocumentStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpiredDocumentPurge, SqliteDocumentStore>(sp => sp.GetRequiredService<SqliteDocumentStore>()));
    }

    // The Firestore backend registers itself here (IDocumentStore and IExpiredDocumentPurge).
    private static void AddFirestore(IServiceCollection services) =>
        Firestore.FirestoreStorageRegistration.AddFirestoreDocumentStore(services);
}
