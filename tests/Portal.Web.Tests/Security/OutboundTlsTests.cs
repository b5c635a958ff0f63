using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Portal.Web.Tests.Security;

/// <summary>
/// docs/security-requirements.md H3: the handlers the portal uses to reach an IdP validate certificates the platform's way;
/// no callback accepts what the platform refuses.
/// </summary>
public sealed class OutboundTlsTests : IAsyncLifetime
{
    /// <summary>A second tenant whose agents sign in at a real (https, not loopback) authority.</summary>
    private const string RemoteAuthority = "https://login.customer.example/oauth2/default";

    private readonly PortalTestHost _host = new() { WithSecondTenant = true };

    public OutboundTlsTests() => _host.Settings["Portal:Tenants:1:AgentSignIn:Authority"] = RemoteAuthority;

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Theory]
    [InlineData("portal-idp-okta")]
    [InlineData("portal-idp-graph")]
    [InlineData("portal-idp-entra-token")]
    public void IdpHttpClient_PrimaryHandler_HasNoCertificateOverride(string clientName)
    {
        var factory = _host.Factory.Services.GetRequiredService<IHttpMessageHandlerFactory>();

        var primary = Innermost(factory.CreateHandler(clientName));

        var sockets = Assert.IsType<SocketsHttpHandler>(primary);
        Assert.Null(sockets.SslOptions.RemoteCertificateValidationCallback);
        Assert.False(sockets.AllowAutoRedirect);
    }

    [Fact]
    public void AgentSignIn_Backchannel_UsesTheDefaultValidatingHandler()
    {
        var monitor = _host.Factory.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>();
        var emulator = monitor.Get("oidc-" + PortalTestHost.TenantId);
        var remote = monitor.Get("oidc-" + PortalTestHost.SecondTenantId);

        // No handler of the portal's own: the handler default (platform certificate validation) is used.
        Assert.Null(emulator.BackchannelHttpHandler);
        Assert.Null(remote.BackchannelHttpHandler);

        // Plain-http metadata is allowed only for the loopback emulator in Development; any other authority needs https.
        Assert.Equal((Uri.UriSchemeHttp, true), (new Uri(emulator.Authority!).Scheme, new Uri(emulator.Authority!).IsLoopback));
        Assert.False(emulator.RequireHttpsMetadata);
        Assert.Equal(RemoteAuthority, remote.Authority);
        Assert.True(remote.RequireHttpsMetadata);
    }

    private static HttpMessageHandler Innermost(HttpMessageHandler handler)
    {
        while (handler is DelegatingHandler delegating && delegating.InnerHandler is not null)
        {
            handler = delegating.InnerHandler;
        }

        return handler;
    }
}
