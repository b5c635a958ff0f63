using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Razor;
using Microsoft.Extensions.Options;
using Portal.Audit;
using Portal.Idp;
using Portal.Idp.Entra;
using Portal.Storage;
using Portal.Web.Agents;
using Portal.Web.Features.Audit;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Reconciliation;

namespace Portal.Web;

/// <summary>The web application's one public entry point: everything it registers and the order of its middleware.</summary>
public static class PortalWebSetup
{
    public static WebApplicationBuilder AddPortalWeb(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        var environment = builder.Environment;

        ProductionSettings.AddTenantsFile(builder.Configuration);
        ProductionSettings.HonourPort(builder, Environment.GetEnvironmentVariable("PORT"));
        GuardDevelopmentOnlySettings(configuration, environment);
        ProductionSettings.Check(configuration, environment);

        // F8: no "Server: Kestrel" on any response, including those Kestrel writes itself (400, 431...).
        builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);
#if PORTAL_EMBEDDED_EMULATOR
        // Debug builds only: `dotnet run`'s demo is the IdP emulator's own hook; it starts the emulator and adds the
        // demo organisations when Portal:Emulator:Enabled is set (docs/architecture.md, "The emulator is in Debug builds only").
        if (Portal.IdpEmulator.EmbeddedDemo.AddIdpEmulatorDemo(builder) is { } demo)
        {
            services.AddSingleton(new DemoInfo(demo.PhoneUrl));
        }
#endif

        if (!environment.IsDevelopment())
        {
            // Cloud Run ingests stdout: one Cloud Logging structured entry per line (severity, time, trace).
            builder.AddCloudLogging();
        }

        // The request's trace comes from traceparent, or from X-Cloud-Trace-Context when only that is sent.
        services.AddSingleton<System.Diagnostics.DistributedContextPropagator, CloudTracePropagator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ISecretResolver, SecretResolver>();
        services.AddOptions<WebOptions>().BindConfiguration(WebOptions.Section).ValidateOnStart()
            .Validate(o => SecretResolver.IsWellFormed(o.PseudonymisationKeySecret), "Portal:Web:PseudonymisationKeySecret must be a secret reference 'env:NAME' or 'file:/path'.")
            .Validate(o => SecretResolver.IsWellFormed(o.KeyRingEncryptionKeySecret), "Portal:Web:KeyRingEncryptionKeySecret must be a secret reference 'env:NAME' or 'file:/path'.");
        services.AddOptions<TenantCatalogOptions>().BindConfiguration("Portal").ValidateOnStart();
        services.AddSingleton<IValidateOptions<TenantCatalogOptions>, TenantCatalogOptionsValidator>();
        services.AddPortalTenancy();
        services.AddSingleton<IAuditRetention, TenantAuditRetention>();

        services.AddPortalStorage(configuration);
        services.AddPortalAudit();
        services.AddOptions<AuditOptions>().Configure<ISecretResolver, IOptions<WebOptions>>((o, secrets, web) =>
            o.PseudonymisationKey = secrets.Resolve(web.Value.PseudonymisationKeySecret, "Portal:Web:PseudonymisationKeySecret"));
        services.AddPortalIdp();
        services.AddPortalEntra();

        services.AddDataProtection().SetApplicationName("portal").PersistKeysToPortalStore();
        services.AddKeyRingEncryption();

        services.AddSingleton<AgentSessionStore>();
        services.AddSingleton<ReconciliationStore>();
        services.AddSingleton<ReconciliationWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<ReconciliationWatcher>());
        services.AddSingleton<TenantSecrets>();
        services.AddSingleton<TenantDirectories>();
        services.AddSingleton<AgentNames>();
        services.AddSingleton<BrowserHandover>();
        services.AddPortalVerification();
        services.AddPortalAuditReview();

        var web = configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        services.AddAgentSignIn(configuration, environment).AddApiKeys();
        services.AddAuthorization(o => o.AddPermissionPolicies());
        services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AuditingAuthorizationResultHandler>();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = web.RequireHttps ? "__Host-portal-af" : "portal-af";
            o.Cookie.SecurePolicy = web.RequireHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.HeaderName = "RequestVerificationToken";
        });
        services.AddControllersWithViews(o => o.Filters.Add(new AutoValidateAntiforgeryTokenAttribute()));
        services.Configure<RazorViewEngineOptions>(o =>
        {
            // Feature folders: Features/{Feature}/Views/{View}.cshtml, shared layout in Views/Shared.
            o.ViewLocationFormats.Clear();
            o.ViewLocationFormats.Add("/Features/{1}/Views/{0}.cshtml");
            o.ViewLocationFormats.Add("/Views/Shared/{0}.cshtml");
        });
        services.AddPortalSecurityHeaders();
        services.AddSingleton<StartupGate>();
        services.AddPortalHealth();
        services.AddPortalRateLimiting(configuration);
        return builder;
    }

    public static WebApplication UsePortalWeb(this WebApplication app)
    {
        var web = app.Services.GetRequiredService<IOptions<WebOptions>>().Value;
        var services = app.Services;

        // The portal's own middleware is built here from its singletons, not bound by reflection
        // (UseMiddleware<T>): the same instances, without the start-up cost (docs/PERFORMANCE.md, "Cold start").
        // First: the client address and scheme from the trusted proxies, which everything below reads.
        app.Use(next => new ForwardedRequestMiddleware(next, services.GetRequiredService<ClientAddressResolver>()).InvokeAsync);
        app.UseExceptionHandler("/error");
        app.UseStatusCodePagesWithReExecute("/error/{0}");
        app.UseSecurityHeaders();

        // Only the public origin's Host is answered; plain http goes to the public https origin.
        app.Use(next => new PublicHostMiddleware(
            next, services.GetRequiredService<PublicOrigin>(), services.GetRequiredService<IOptions<WebOptions>>(), services.GetRequiredService<ILogger<PublicHostMiddleware>>()).InvokeAsync);
        if (web.RequireHttps && string.IsNullOrWhiteSpace(web.PublicBaseUrl))
        {
            // HSTS itself comes from the security-header policy (two years, every host name).
            app.UseHttpsRedirection();
        }

        app.UseStaticFiles();
        app.Use(async (context, next) =>
        {
            // Pages about callers must never be kept by a browser or a proxy; nor the sign-in and error
            // pages, which carry antiforgery tokens and request ids, nor a 403 or a 429. Set before any
            // step that can refuse; static files are served above without it. The exact value
            // antiforgery wants, so it does not rewrite (and log) it on every form page.
            context.Response.Headers.CacheControl = "no-cache, no-store";
            context.Response.Headers.Pragma = "no-cache";
            await next(context);
        });
        app.UseRouting();

        // Until the tenants are read from the store, only the probes are answered (503 otherwise).
        app.Use(next => new StartupGateMiddleware(next, services.GetRequiredService<StartupGate>()).InvokeAsync);
        app.UseIpAllowList();
        app.UseAuthentication();

        // F9: a POST a browser marks as coming from another site stops here, whatever token it carries.
        app.Use(next => new CrossSiteRequestMiddleware(next, services.GetRequiredService<IAuditTrail>(), services.GetRequiredService<ILogger<CrossSiteRequestMiddleware>>()).InvokeAsync);

        // After authentication (to count per agent), before authorization and MVC (to refuse early).
        // Then the store-backed limit of the routes that reach the IdP, which holds across instances.
        app.UseRateLimiter();
        app.UseIdpRouteLimits();
        app.UseAuthorization();
        app.MapControllers().WithIdpRouteLimits();
        app.MapPortalHealth();
        return app;
    }

    private static void GuardDevelopmentOnlySettings(IConfiguration configuration, IHostEnvironment environment)
    {
        if (configuration.GetValue<bool>("FORWARDEDHEADERS_ENABLED") || string.Equals(Environment.GetEnvironmentVariable("ASPNETCORE_FORWARDEDHEADERS_ENABLED"), "true", StringComparison.OrdinalIgnoreCase))
        {
            // The framework's forwarded-headers switch trusts one hop from anyone and rewrites X-Forwarded-For,
            // which would let a client's own entry reach the IP allow-list (docs/security-model.md).
            throw new InvalidOperationException("ASPNETCORE_FORWARDEDHEADERS_ENABLED must not be set: the portal reads forwarded headers itself, trusting Portal:Web:TrustedProxyHops hops (1 = Cloud Run direct, 2 = behind an external HTTPS load balancer).");
        }

        if (environment.IsDevelopment())
        {
            return;
        }

        if (configuration.GetValue<bool>("Portal:Emulator:Enabled"))
        {
            throw new InvalidOperationException("Portal:Emulator:Enabled is true outside Development. The IdP emulator is for local runs and tests only; remove the setting.");
        }

        if (!configuration.GetValue("Portal:Web:RequireHttps", true))
        {
            throw new InvalidOperationException("Portal:Web:RequireHttps is false outside Development. Plain http is for the local emulator only.");
        }
    }

    private sealed class TenantAuditRetention(ITenantCatalog tenants) : IAuditRetention
    {
        public TimeSpan For(string tenantId) => TimeSpan.FromDays(tenants.Find(tenantId)?.AuditRetentionDays ?? 30);
    }
}
