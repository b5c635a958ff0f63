using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Portal.IdpEmulator.Tests;

internal static class TestEmulator
{
    public const string Token = "test-okta-token-0123456789";
    public const string ClientId = "portal-test";
    public const string ClientSecret = "client-secret-for-tests";

    public static Task<EmulatorHost> StartAsync(TimeProvider? time = null, Action<EmulatorOptions>? configure = null)
    {
        var options = new EmulatorOptions { OktaApiToken = Token, TimeProvider = time ?? TimeProvider.System };
        options.Clients.Add(new EmulatorClient(ClientId, ClientSecret));
        configure?.Invoke(options);
        return EmulatorHost.StartAsync(options);
    }

    /// <summary>A client as the portal's Okta adapter would be: SSWS token, a User-Agent, no redirects.</summary>
    public static HttpClient Okta(EmulatorHost host, string? token = Token)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(host.BaseUrl, "api/v1/") };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("SSWS", token);
        }

        client.DefaultRequestHeaders.UserAgent.ParseAdd("PortalTests/1.0");
        return client;
    }

    public static HttpClient Browser(EmulatorHost host) =>
        new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseUrl };

    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonNode> ReadJson(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    public static string IdOf(EmulatorHost host, string login) => host.State.FindCaller(login)!.Id;

    public static string FactorOf(EmulatorHost host, string login, string type) =>
        host.State.FindCaller(login)!.Factors.First(f => f.FactorType == type).Id;
}
