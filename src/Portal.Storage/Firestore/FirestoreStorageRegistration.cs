using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Portal.Storage.Firestore;

/// <summary>How <c>AddPortalStorage</c> wires the Firestore backend when <c>Portal:Storage:Provider</c> is Firestore.</summary>
internal static class FirestoreStorageRegistration
{
    internal const string HttpClientName = "Portal.Storage.Firestore";
    internal const string EmulatorHostVariable = "FIRESTORE_EMULATOR_HOST";
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    internal static void AddFirestoreDocumentStore(IServiceCollection services)
    {
        services.TryAddSingleton(sp => ResolveTarget(sp.GetRequiredService<IOptions<StorageOptions>>().Value.Firestore));

        // No automatic retries at all: commit, batchWrite and even runQuery are POSTs, and a commit that timed out
        // may have been applied. The store re-runs whole transactions on ABORTED; anything else surfaces.
        services.AddHttpClient(HttpClientName, client => client.Timeout = RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // The client lives as long as the store (a singleton), so connections are recycled here instead.
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AllowAutoRedirect = false,
            })
            .AddHttpMessageHandler(sp => new FirestoreAuthHandler(sp.GetRequiredService<FirestoreTarget>()))
            // Request URLs name documents, and some document ids are secrets (sessions, verifications): never logged.
            .RemoveAllLoggers()
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);

        services.TryAddSingleton(sp =>
        {
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
            var client = new FirestoreRestClient(http, sp.GetRequiredService<FirestoreTarget>());
            return new FirestoreDocumentStore(client, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<IDocumentStore>(sp => sp.GetRequiredService<FirestoreDocumentStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpiredDocumentPurge, FirestoreDocumentStore>(sp => sp.GetRequiredService<FirestoreDocumentStore>()));
    }

    /// <summary>The configured target; the emulator host falls back to FIRESTORE_EMULATOR_HOST, as Google's own clients do.</summary>
    internal static FirestoreTarget ResolveTarget(FirestoreStorageOptions options, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (string.IsNullOrWhiteSpace(options.ProjectId))
        {
            throw new InvalidOperationException("Portal:Storage:Firestore:ProjectId must be set.");
        }

        var emulatorHost = string.IsNullOrWhiteSpace(options.EmulatorHost) ? environment(EmulatorHostVariable) : options.EmulatorHost;
        return new FirestoreTarget(
            options.ProjectId.Trim(),
            string.IsNullOrWhiteSpace(options.DatabaseId) ? "(default)" : options.DatabaseId.Trim(),
            string.IsNullOrWhiteSpace(emulatorHost) ? null : emulatorHost.Trim());
    }
}
