using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Portal.Idp.Entra;

/// <summary>The Entra (Microsoft Graph) adapter's entry point.</summary>
public static class EntraServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Entra <see cref="ICallerDirectoryFactory"/> as a keyed service under <see cref="IdpKind.Entra"/>
    /// (so that it sits beside the Okta one <c>AddPortalIdp</c> registers, without replacing it), the named
    /// HttpClients "portal-idp-graph" (Graph's middleware, reads-only retry) and "portal-idp-entra-token", the
    /// token cache, <see cref="IEntraPushChallenge"/> (the MFA connector, named HttpClient "portal-idp-entra-push"), and a <see cref="TimeProvider"/> unless one is registered already.
    /// </summary>
    public static IServiceCollection AddPortalEntra(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<EntraTokenClient>();
        services.TryAddSingleton<EntraCallerDirectoryFactory>();
        services.TryAddKeyedSingleton<ICallerDirectoryFactory>(IdpKind.Entra, static (sp, _) => sp.GetRequiredService<EntraCallerDirectoryFactory>());

        services.AddHttpClient(EntraCallerDirectoryFactory.HttpClientName)
            .ConfigureHttpClient(static c => c.Timeout = TimeSpan.FromSeconds(30))
            // Strict TLS (no certificate callback); redirects are Graph's RedirectHandler's, which drops the token
            // on a change of host; no cookies, as the handler is shared by every tenant.
            .ConfigurePrimaryHttpMessageHandler(static () => PrimaryHandler())
            // Graph's middleware is not there for a client from IHttpClientFactory unless it is added like this.
            .ConfigureAdditionalHttpMessageHandlers(static (handlers, _) =>
            {
                foreach (var handler in GraphHttpPipeline.CreateHandlers())
                {
                    handlers.Add(handler);
                }
            })
            // Request URIs carry user principal names ($filter, /users/{upn}); the adapter logs what it needs.
            .RemoveAllLoggers();

        // The MFA connector holds the request open until the caller answers (about a minute), and is never retried.
        services.TryAddSingleton<IEntraPushChallenge, EntraPushConnector>();
        services.AddHttpClient(EntraPushConnector.HttpClientName)
            .ConfigureHttpClient(static c => c.Timeout = TimeSpan.FromSeconds(100))
            .ConfigurePrimaryHttpMessageHandler(static () => PrimaryHandler())
            .RemoveAllLoggers();

        services.AddHttpClient(EntraTokenClient.HttpClientName)
            .ConfigureHttpClient(static c => c.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(static () => PrimaryHandler())
            .RemoveAllLoggers();
        return services;
    }

    private static SocketsHttpHandler PrimaryHandler() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    };
}
