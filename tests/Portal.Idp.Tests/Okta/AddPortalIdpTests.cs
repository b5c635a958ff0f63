using Microsoft.Extensions.DependencyInjection;
using Portal.Idp.Okta;

namespace Portal.Idp.Tests.Okta;

/// <summary>The adapter as the application registers it: the real named client and resilience pipeline over a fake network.</summary>
public sealed class AddPortalIdpTests
{
    private static readonly ChallengeContext Context = new("Mozilla/5.0", null);

    private static ICallerDirectoryFactory FactoryOver(FakeOktaHandler handler)
    {
        var services = new ServiceCollection().AddLogging().AddPortalIdp();
        services.AddHttpClient(OktaCallerDirectoryFactory.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
        return services.BuildServiceProvider().GetRequiredService<ICallerDirectoryFactory>();
    }

    private static ICallerDirectory Directory(ICallerDirectoryFactory factory, string baseUrl = "https://acme.okta.com/") =>
        factory.Create(new IdpConnection("tenant-a", IdpKind.Okta, new Uri(baseUrl), "ssws-token"));

    [Fact]
    public async Task StartPushAsync_ServiceUnavailable_SentExactlyOnce()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(503, "E0000009"));

        var result = await Directory(FactoryOver(handler)).StartPushAsync("00uA", "opfB", Context);

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task ResetPasswordAsync_ServiceUnavailable_SentExactlyOnce()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(503, "E0000009"));

        var result = await Directory(FactoryOver(handler)).ResetPasswordAsync("00uA", PasswordResetKind.TemporaryPassword);

        Assert.Equal(OktaErrorMapper.UnavailableWriteMessage, result.Error?.AgentMessage);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task RevokeSessionsAsync_ServiceUnavailable_SentExactlyOnce()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(503, "E0000009"));

        var result = await Directory(FactoryOver(handler)).RevokeSessionsAsync("00uA");

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task GetCallerAsync_ServiceUnavailableOnce_RetriedByThePipeline()
    {
        var handler = new FakeOktaHandler((_, index) => index == 0
            ? FakeOktaHandler.Error(503, "E0000009")
            : FakeOktaHandler.Json(200, """{"id":"00uA","status":"ACTIVE","profile":{"login":"a@demo.example"}}"""));

        var result = await Directory(FactoryOver(handler)).GetCallerAsync("00uA");

        Assert.True(result.IsSuccess);
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task GetCallerAsync_RateLimitedFarAway_NotRetriedByThePipeline()
    {
        var handler = new FakeOktaHandler((_, _) =>
        {
            var response = FakeOktaHandler.Error(429, "E0000047");
            response.Headers.Date = DateTimeOffset.UtcNow;
            response.Headers.TryAddWithoutValidation("X-Rate-Limit-Reset", DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            return response;
        });

        var result = await Directory(FactoryOver(handler)).GetCallerAsync("00uA");

        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task Create_OrgUrlWithoutTrailingSlash_CallsUnderApiV1()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]"));

        await Directory(FactoryOver(handler), "https://acme.okta.com").ListFactorsAsync("00uA");

        Assert.Equal("https://acme.okta.com/api/v1/users/00uA/factors", handler.Sent[0].Uri.AbsoluteUri);
        Assert.Equal("SSWS ssws-token", handler.Sent[0].Authorization);
    }

    [Theory]
    [InlineData("http://acme.okta.com/")]
    [InlineData("http://10.0.0.5:8080/")]
    [InlineData("ftp://acme.okta.com/")]
    [InlineData("https://user:secret@acme.okta.com/")]
    public void Create_UnsafeBaseUrl_ArgumentExceptionNamingTheSetting(string baseUrl)
    {
        var factory = FactoryOver(new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]")));

        var exception = Assert.ThrowsAny<ArgumentException>(() => Directory(factory, baseUrl));

        Assert.Contains("BaseUrl", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5001/")]
    [InlineData("http://localhost:5001/")]
    [InlineData("http://[::1]:5001/")]
    [InlineData("https://acme.okta.com/")]
    public void Create_HttpsOrLoopback_Accepted(string baseUrl)
    {
        var factory = FactoryOver(new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]")));

        Assert.IsType<OktaCallerDirectory>(Directory(factory, baseUrl));
    }

    [Fact]
    public void Create_EmptyToken_ArgumentException()
    {
        var factory = FactoryOver(new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]")));

        Assert.ThrowsAny<ArgumentException>(() => factory.Create(new IdpConnection("tenant-a", IdpKind.Okta, new Uri("https://acme.okta.com/"), " ")));
    }

    [Fact]
    public void AddPortalIdp_ExistingTimeProvider_Kept()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time).AddLogging().AddPortalIdp();

        Assert.Same(time, services.BuildServiceProvider().GetRequiredService<TimeProvider>());
    }
}
