using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;

namespace Portal.Web.Tests.Security;

/// <summary>One route of the app, as its endpoint table declares it.</summary>
public sealed record AppRoute(string Method, string Template, RouteEndpoint Endpoint)
{
    public const string SampleId = "0123456789abcdef0123456789abcdef";

    /// <summary>The template with every parameter filled with a harmless, well-formed value.</summary>
    public string SamplePath
    {
        get
        {
            var path = "/" + Template.TrimStart('/');
            foreach (var parameter in Endpoint.RoutePattern.Parameters)
            {
                var value = parameter.Name switch
                {
                    "tenantId" => PortalTestHost.TenantId,
                    "status" => "404",
                    _ => SampleId,
                };
                path = System.Text.RegularExpressions.Regex.Replace(path, "\\{" + parameter.Name + "[^}]*\\}", value);
            }

            return path;
        }
    }

    public override string ToString() => $"{Method} /{Template.TrimStart('/')}";
}

/// <summary>Shared helpers of the security suite: the endpoint table, sign-in with cookie capture, audit reads.</summary>
public static class SecurityTestKit
{
    public const string Tier1 = "tier1.agent@demo.example";
    public const string Tier2 = "tier2.agent@demo.example";
    public const string Tier3 = "tier3.agent@demo.example";
    public const string Auditor = "auditor@demo.example";
    public const string Admin = "admin@demo.example";
    public const string Alice = "alice.caller@demo.example";
    public const string Bob = "bob.caller@demo.example";

    /// <summary>
    /// A host name the portal would really be served under. Browsers ignore HSTS from localhost, and the
    /// header library leaves it out there; requests that check headers name the public host instead.
    /// </summary>
    public const string PublicHost = "portal.example.com";

    public static async Task<HttpResponseMessage> SendAsPublicHostAsync(HttpClient browser, HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Host = PublicHost;
        return await browser.SendAsync(request);
    }

    public static Task<HttpResponseMessage> GetAsPublicHostAsync(HttpClient browser, string path) => SendAsPublicHostAsync(browser, HttpMethod.Get, path);

    /// <summary>Every route of the app, one row per HTTP method, read from the app's own endpoint table.</summary>
    public static IReadOnlyList<AppRoute> Routes(PortalTestHost host)
    {
        var sources = host.Factory.Services.GetServices<EndpointDataSource>();
        var routes = new List<AppRoute>();
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods;
            foreach (var method in methods is { Count: > 0 } ? methods : ["GET"])
            {
                routes.Add(new AppRoute(method, endpoint.RoutePattern.RawText ?? "", endpoint));
            }
        }

        return routes.DistinctBy(r => r.ToString()).OrderBy(r => r.ToString(), StringComparer.Ordinal).ToList();
    }

    /// <summary>A browser with a cookie jar, signed in through the real OIDC flow; also returns the sign-in callback's response.</summary>
    public static async Task<(HttpClient Browser, HttpResponseMessage Callback)> SignInCapturingAsync(PortalTestHost host, string agentEmail, HttpClient? browser = null)
    {
        var client = browser ?? host.NewClient();
        var challenge = await client.GetAsync($"/account/signin/{PortalTestHost.TenantId}");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        var form = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = host.Emulator.State.Agents.Single(a => a.Email == agentEmail).Subject;
        using var idp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await idp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        var callback = await client.GetAsync(picked.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        return (client, callback);
    }

    /// <summary>The <c>name=value</c> pair of a cookie the response sets.</summary>
    public static string? CookiePair(HttpResponseMessage response, string name) =>
        SetCookies(response).Select(c => c.Split(';')[0]).FirstOrDefault(p => p.StartsWith(name + "=", StringComparison.Ordinal));

    public static IReadOnlyList<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? [.. values] : [];

    /// <summary>A browser without a cookie jar that presents exactly the given cookie.</summary>
    public static HttpClient BrowserWithCookie(PortalTestHost host, string cookiePair)
    {
        var client = host.Factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            BaseAddress = new Uri("https://localhost"),
            HandleCookies = false,
        });
        client.DefaultRequestHeaders.Add("Cookie", cookiePair);
        return client;
    }

    /// <summary>The antiforgery token of a signed-in agent's pages (every page carries the sign-out form).</summary>
    public static async Task<string> TokenAsync(HttpClient browser)
    {
        var page = await browser.GetAsync("/error/404");
        return PortalTestHost.FormToken(await page.Content.ReadAsStringAsync());
    }

    public static async Task<List<JsonObject>> AuditAsync(PortalTestHost host)
    {
        var list = new List<JsonObject>();
        await foreach (var doc in host.Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"))))
        {
            list.Add(doc.Data);
        }

        return list;
    }

    public static async Task<int> CountAsync(PortalTestHost host, string collection)
    {
        var count = 0;
        await foreach (var _ in host.Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(PortalTestHost.TenantId, collection))))
        {
            count++;
        }

        return count;
    }

    /// <summary>The cookie handler's challenge: a redirect to the sign-in page that carries where the agent was going.</summary>
    public static bool IsSignInChallenge(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location is not { } location)
        {
            return false;
        }

        var text = location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
        return text.StartsWith("/account/signin?", StringComparison.Ordinal) && text.Contains("ReturnUrl=", StringComparison.Ordinal);
    }
}
