using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Portal.IdpEmulator;

/// <summary>
/// The IdP emulator as an in-process web server: Okta Management API subset, Microsoft Graph subset, an OIDC provider for agent
/// sign-in and the caller's phone page. Built on an empty host so that nothing of the hosting application
/// (its configuration, URLs, environment variables or static files) leaks into it, or from it.
/// </summary>
public sealed class EmulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IReadOnlyList<IDisposable> _authorities;
    private readonly MailSink _mailSink;

    private EmulatorHost(WebApplication app, IReadOnlyList<IDisposable> authorities, Uri baseUrl, EmulatorState state, MailSink mailSink)
    {
        _app = app;
        _authorities = authorities;
        BaseUrl = baseUrl;
        State = state;
        _mailSink = mailSink;
    }

    /// <summary>The mail sink's port on 127.0.0.1 (SMTP, no TLS): the demo tenants' relay for recovery notices.</summary>
    public int MailSinkPort => _mailSink.Port;

    /// <summary>The mailbox page: <c>{BaseUrl}mailbox</c>.</summary>
    public Uri MailboxUrl => new(BaseUrl, "mailbox");

    /// <summary>The bound address, with a trailing slash.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The OIDC issuer: <c>{BaseUrl}oauth2/default</c>, no trailing slash.</summary>
    public Uri OktaIssuer => new(BaseUrl, "oauth2/default");

    /// <summary>The Okta-like issuer where callers sign in for step-up: <c>{BaseUrl}oauth2/callers</c>.</summary>
    public Uri CallerIssuer => new(BaseUrl, "oauth2/callers");

    /// <summary>The Entra-like issuer of a directory: <c>{BaseUrl}{tenantId}/v2.0</c> (agents and callers of that directory).</summary>
    public Uri EntraIssuer(string tenantId = EntraDemo.TenantId) => new(BaseUrl, tenantId + "/v2.0");

    /// <summary>The caller's phone page: <c>{BaseUrl}phone</c>.</summary>
    public Uri PhoneUrl => new(BaseUrl, "phone");

    public EmulatorState State { get; }

    public static async Task<EmulatorHost> StartAsync(EmulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.OktaApiToken))
        {
            throw new ArgumentException("An Okta API token is required.", nameof(options));
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        if (options.Certificate is { } certificate)
        {
            var url = new Uri(options.Url);
            if (url.Scheme != Uri.UriSchemeHttps || !System.Net.IPAddress.TryParse(url.Host, out var listenAddress))
            {
                throw new ArgumentException("With a certificate, the URL is https:// and an IP address.", nameof(options));
            }

            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(listenAddress, url.Port, listen => listen.UseHttps(certificate)));
        }
        else
        {
            builder.WebHost.UseUrls(options.Url);
        }

        builder.Services.AddRoutingCore();
        // Embedded in the portal, the emulator must not take over the process's Ctrl+C/SIGTERM handling.
        builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();

        var app = builder.Build();
        var state = new EmulatorState(options.TimeProvider, options.PushLifetime);
        var context = new EmulatorContext(options);
        // Three OIDC authorities, one type (OidcAuthority), each with its own key and codes: agents at Okta's
        // oauth2/default, callers at oauth2/callers, agents and callers of Entra directories at {tenant}/v2.0.
        var agentSignIn = new AgentSignIn(state, context);
        var oktaCallers = CallerSignIn.Okta(state, context);
        var entra = CallerSignIn.Entra(state, context);
        IDisposable[] authorities = [agentSignIn, oktaCallers, entra];

        app.Use(async (http, next) =>
        {
            // The pages carry codes and one-time values: keep them out of caches, frames and sniffing.
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.XFrameOptions = "DENY";
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; frame-ancestors 'none'";
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Headers["Referrer-Policy"] = "no-referrer";
            await next(http);
        });
        var serviceApps = new OktaServiceApps(state, context);
        serviceApps.Map(app);
        OktaApi.Map(app, state, context, serviceApps);
        GraphApi.Map(app, state, context, entra.Authority);
        agentSignIn.Map(app);
        oktaCallers.Authority.Map(app);
        entra.Authority.Map(app);
        PhonePages.Map(app, state);
        AdminPages.Map(app, state);
        MfaConnector.Map(app, state, context);
        MailboxPages.Map(app, state);
        app.MapGet("/emulator.css", () => Results.Text(Html.Css, "text/css"));
        app.MapGet("/", () => Results.Redirect("/phone"));

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            DisposeAll(authorities);
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The emulator did not bind an address.");
        var baseUrl = new Uri(address.EndsWith('/') ? address : address + "/");
        context.BaseUrl = baseUrl;
        return new EmulatorHost(app, authorities, baseUrl, state, new MailSink(state.Mailbox, options.TimeProvider));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _mailSink.DisposeAsync();
        DisposeAll(_authorities);
    }

    private static void DisposeAll(IEnumerable<IDisposable> disposables)
    {
        foreach (var disposable in disposables)
        {
            disposable.Dispose();
        }
    }

    private sealed class PassiveLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
