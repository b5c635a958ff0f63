using Microsoft.Extensions.Options;
using Portal.Audit;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>Registers tenancy: the store-backed tenant catalog, admin changes, the IP allow-list and alert delivery.</summary>
internal static class TenancySetup
{
    public static IServiceCollection AddPortalTenancy(this IServiceCollection services)
    {
        services.AddOptions<TenancyOptions>().BindConfiguration(TenancyOptions.Section);
        services.AddSingleton<TenantCatalog>();
        services.AddSingleton<ITenantCatalog>(sp => sp.GetRequiredService<TenantCatalog>());
        services.AddHostedService<TenantCatalogRefresher>();
        services.AddSingleton<TenantConnectionReports>();
        services.AddSingleton<ConnectionCheckRunner>();
        services.AddHostedService<ConnectionCheckAtStartup>();
        services.AddScoped<TenantAdministration>();
        services.AddScoped<HeightenedModeSwitch>();

        services.AddOptions<WebOptions>().Validate(o => o.TrustedProxyHops is >= 0 and <= 5, "Portal:Web:TrustedProxyHops must be 0 (no proxy), 1 (Cloud Run direct) or 2 (behind a Google load balancer); at most 5.");
        services.AddSingleton<ClientAddressResolver>();
        services.AddSingleton<IValidateOptions<WebOptions>, WebOptionsValidator>();
        services.AddSingleton<PublicOrigin>();

        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>();
        services.AddSingleton<AlertSigningKeys>();
        services.AddSingleton<AlertWebhookNotifier>();
        services.AddSingleton<IAlertNotifier>(sp => sp.GetRequiredService<AlertWebhookNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<AlertWebhookNotifier>());

        // The URL is typed by a tenant admin: the handler refuses internal destinations at connect time and never
        // follows a redirect (F2). No request logging for this client: the URL's path often carries a secret (F10).
        services.AddHttpClient(AlertWebhookNotifier.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => WebhookDestinations.CreateHandler(sp.GetRequiredService<IOptions<AlertOptions>>().Value.AllowLoopbackDestinations))
            .RemoveAllLoggers();
        return services;
    }

    /// <summary>The IP allow-list; placed just before authentication (it authenticates the cookie itself).</summary>
    public static IApplicationBuilder UseIpAllowList(this IApplicationBuilder app) =>
        app.Use(next => new IpAllowListMiddleware(
            next,
            app.ApplicationServices.GetRequiredService<ClientAddressResolver>(),
            app.ApplicationServices.GetRequiredService<ITenantCatalog>(),
            app.ApplicationServices.GetRequiredService<IAuditTrail>(),
            app.ApplicationServices.GetRequiredService<ILogger<IpAllowListMiddleware>>()).InvokeAsync);
}
