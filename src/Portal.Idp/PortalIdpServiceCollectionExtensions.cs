using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Portal.Idp.Okta;

namespace Portal.Idp;

/// <summary>The IdP adapters' one public entry point.</summary>
public static class PortalIdpServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ICallerDirectoryFactory"/> (Okta), its named HttpClient "portal-idp-okta" with
    /// the standard resilience pipeline, and a <see cref="TimeProvider"/> unless one is registered already.
    /// </summary>
    public static IServiceCollection AddPortalIdp(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ICallerDirectoryFactory, OktaCallerDirectoryFactory>();
        services.TryAddSingleton<OktaServiceAppTokens>();

        services.AddHttpClient(OktaCallerDirectoryFactory.HttpClientName)
            // Strict TLS (no certificate callback). No redirects: the SSWS token must reach only the org
            // URL. No cookies: the handler is shared by every tenant's org.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            // The default HttpClient logs write request URIs, and a user search carries a login or an e-mail
            // address in its query; the adapter logs what it needs itself.
            .RemoveAllLoggers()
            .AddStandardResilienceHandler(ConfigureResilience)
            // One circuit breaker per org: one tenant's Okta outage must not cut off every other tenant.
            .SelectPipelineByAuthority();
        return services;
    }

    internal static void ConfigureResilience(HttpStandardResilienceOptions options)
    {
        options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(10);
        options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(30);
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
        options.Retry.MaxRetryAttempts = 2;
        options.Retry.Delay = TimeSpan.FromSeconds(1);

        // A 429 is the adapter's to handle (Okta's X-Rate-Limit-Reset, at most one short wait on a read);
        // the generic retry would hammer a limit that resets only at the next minute.
        options.Retry.ShouldHandle = static args => ValueTask.FromResult(
            HttpClientResiliencePredicates.IsTransient(args.Outcome) && args.Outcome.Result?.StatusCode != HttpStatusCode.TooManyRequests);

        // Must come after ShouldHandle is set, as it wraps it: a POST, PUT, PATCH or DELETE that timed out or
        // got a 5xx may already have reset a password or issued a code, so it is never sent twice.
        options.Retry.DisableForUnsafeHttpMethods();
    }
}
