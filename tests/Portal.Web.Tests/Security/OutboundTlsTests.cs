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
    private readonly PortalTestHost _host = new();

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
        var options = _host.Factory.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get("oidc-" + PortalTestHost.TenantId);

        // No handler of the portal's own: the handler default (platform certificate validation) is used,
        // and plain-http metadata is allowed only for the loopback emulator in Development.
        Assert.Null(options.BackchannelHttpHandler);
        Assert.True(new Uri(options.Authority!).IsLoopback || options.RequireHttpsMetadata);
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
