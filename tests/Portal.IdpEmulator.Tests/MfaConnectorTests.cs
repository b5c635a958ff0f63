using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.Extensions.Time.Testing;

namespace Portal.IdpEmulator.Tests;

/// <summary>The Azure MFA connector as community tools call it: v1 token, then a synchronous BeginTwoWayAuthentication.</summary>
public sealed class MfaConnectorTests
{
    private const string Grace = "grace.caller@entra.example";
    private const string Heidi = "heidi.caller@entra.example";
    private const string Secret = "mfa-connector-secret-for-tests";
    private const string DirectoryId = "11111111-2222-3333-4444-555555555555";
    private const string Path = "StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication";

    [Fact]
    public async Task Token_WrongResourceOrSecretOrApp_Refused()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        Assert.Equal(HttpStatusCode.BadRequest, (await RequestTokenAsync(http, MfaConnector.AppId, Secret, "https://graph.microsoft.com")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RequestTokenAsync(http, MfaConnector.AppId, "wrong", MfaConnector.Resource)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RequestTokenAsync(http, "0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e02", Secret, MfaConnector.Resource)).StatusCode);
        var ok = await RequestTokenAsync(http, MfaConnector.AppId, Secret, MfaConnector.Resource);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(MfaConnector.Resource, (string?)JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["resource"]);
    }

    [Fact]
    public async Task BeginTwoWay_NoBearer_Unauthorized()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        using var response = await http.PostAsync(Path, Xml(Body(Grace)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(host.State.PendingEntraPushes(Grace));
    }

    [Fact]
    public async Task BeginTwoWay_ApprovedOnPhonePage_SuccessWithAuthenticationResult()
    {
        await using var host = await StartAsync();
        using var http = await ConnectorClientAsync(host);
        using var browser = TestEmulator.Browser(host);

        var call = http.PostAsync(Path, Xml(Body(Grace)));
        var push = await WaitForPushAsync(host, Grace);
        var page = await browser.GetStringAsync("phone/" + Uri.EscapeDataString(Grace));
        Assert.Contains($"action=\"/phone/entrapush/{push.Id}/approve\"", page, StringComparison.Ordinal);
        Assert.Contains($"action=\"/phone/entrapush/{push.Id}/deny\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"number\"", page, StringComparison.Ordinal);
        using var tapped = await browser.PostAsync($"phone/entrapush/{push.Id}/approve", null);
        Assert.Equal(HttpStatusCode.Redirect, tapped.StatusCode);

        using var response = await call;

        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Success", xml.Root!.Element("Result")!.Element("Value")!.Value);
        Assert.Equal("true", xml.Root.Element("AuthenticationResult")!.Value);
        Assert.Empty(host.State.PendingEntraPushes(Grace));
    }

    [Fact]
    public async Task BeginTwoWay_SingleSlashAndDenied_PhoneAppDenied()
    {
        await using var host = await StartAsync();
        using var http = await ConnectorClientAsync(host);

        var call = http.PostAsync(Path.Replace("//", "/", StringComparison.Ordinal), Xml(Body(Grace)));
        var push = await WaitForPushAsync(host, Grace);
        Assert.True(host.State.AnswerEntraPush(push.Id, approve: false));
        Assert.False(host.State.AnswerEntraPush(push.Id, approve: true));
        using var response = await call;

        Assert.Equal("PhoneAppDenied", ResultValue(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task BeginTwoWay_NoAnswerForAMinute_PhoneAppNoResponse()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time);
        using var http = await ConnectorClientAsync(host);

        var call = http.PostAsync(Path, Xml(Body(Grace)));
        var push = await WaitForPushAsync(host, Grace);
        // The connector starts its one-minute wait just after the push appears; on a busy machine the clock may be
        // moved before that wait exists, so it is moved again until the call ends.
        while (!call.IsCompleted)
        {
            time.Advance(MfaConnector.AnswerTimeout + TimeSpan.FromSeconds(1));
            await Task.WhenAny(call, Task.Delay(50));
        }

        using var response = await call;

        Assert.Equal("PhoneAppNoResponse", ResultValue(await response.Content.ReadAsStringAsync()));
        Assert.False(host.State.AnswerEntraPush(push.Id, approve: true));
    }

    [Theory]
    [InlineData("nobody@entra.example", "UserNotFound")]
    [InlineData(Heidi, "NoDefaultAuthenticationMethodIsConfigured")]
    public async Task BeginTwoWay_NoAuthenticator_AnswersAtOnceWithoutPush(string upn, string expected)
    {
        await using var host = await StartAsync();
        using var http = await ConnectorClientAsync(host);

        using var response = await http.PostAsync(Path, Xml(Body(upn)));

        Assert.Equal(expected, ResultValue(await response.Content.ReadAsStringAsync()));
        Assert.Empty(host.State.PendingEntraPushes(upn));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("OneWaySMS")]
    public async Task BeginTwoWay_WithoutPhoneAppNotification_RefusedWithoutPush(string? method)
    {
        await using var host = await StartAsync();
        using var http = await ConnectorClientAsync(host);

        using var response = await http.PostAsync(Path, Xml(Body(Grace, method)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(host.State.PendingEntraPushes(Grace));
    }

    [Fact]
    public async Task BeginTwoWay_DtdInBody_RefusedWithoutPush()
    {
        await using var host = await StartAsync();
        using var http = await ConnectorClientAsync(host);
        var body = "<!DOCTYPE r [<!ENTITY u \"" + Grace + "\">]><BeginTwoWayAuthenticationRequest><UserPrincipalName>&u;</UserPrincipalName><ContextId>"
            + Guid.NewGuid() + "</ContextId><SyncCall>true</SyncCall></BeginTwoWayAuthenticationRequest>";

        using var response = await http.PostAsync(Path, Xml(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(host.State.PendingEntraPushes(Grace));
    }

    private static Task<EmulatorHost> StartAsync(TimeProvider? time = null)
    {
        var options = new EmulatorOptions { OktaApiToken = TestEmulator.Token, TimeProvider = time ?? TimeProvider.System };
        options.GraphClients.Add(new EmulatorClient(MfaConnector.AppId, Secret));
        options.GraphClients.Add(new EmulatorClient("0b6f1d2e-7a41-4c55-9e1a-3f2b8c7d6e02", Secret));
        return EmulatorHost.StartAsync(options);
    }

    private static Task<HttpResponseMessage> RequestTokenAsync(HttpClient http, string clientId, string secret, string resource) =>
        http.PostAsync(DirectoryId + "/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
            ["resource"] = resource,
        }));

    private static async Task<HttpClient> ConnectorClientAsync(EmulatorHost host)
    {
        var http = new HttpClient { BaseAddress = host.BaseUrl };
        using var token = await RequestTokenAsync(http, MfaConnector.AppId, Secret, MfaConnector.Resource);
        var accessToken = (string?)JsonNode.Parse(await token.Content.ReadAsStringAsync())!["access_token"];
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return http;
    }

    private static async Task<PendingEntraPush> WaitForPushAsync(EmulatorHost host, string upn)
    {
        for (var i = 0; i < 1500; i++)
        {
            var pending = host.State.PendingEntraPushes(upn);
            if (pending.Count > 0)
            {
                return pending[0];
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException("No push reached the phone.");
    }

    private static string Body(string upn, string? method = "PhoneAppNotification") =>
        new XElement(
            "BeginTwoWayAuthenticationRequest",
            new XElement("Version", "1.0"),
            new XElement("UserPrincipalName", upn),
            method is null ? null : new XElement("AuthenticationMethodId", method),
            new XElement("ContextId", Guid.NewGuid()),
            new XElement("SyncCall", "true"),
            new XElement("RequireUserMatch", "true"),
            new XElement("CallerName", "Tests helpdesk")).ToString();

    private static StringContent Xml(string body) => new(body, Encoding.UTF8, "application/xml");

    private static string ResultValue(string xml) => XDocument.Parse(xml).Root!.Element("Result")!.Element("Value")!.Value;
}
